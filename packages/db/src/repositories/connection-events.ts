import type { DbExecutor } from '../client.js';
import {
  type ConnectionClosed,
  type ConnectionEvent,
  type ConnectionOpened,
  isTransientClose,
  validateConnectionEvents,
} from '../events.js';
import { cmp, createAndLockAgents, splitIntoRounds } from './batch.js';
import { applyCloses, applyOpens } from './connection-agent-steps.js';
import { upsertHistory } from './connection-history.js';

export interface ConnectionBatchResult {
  /** Agents that did not exist before this batch (created offline, possibly brought online). */
  agentsCreated: number;
  /** Agent rows changed by the batch's events (an agent changed by two events counts twice). */
  agentsUpdated: number;
  /** Connection history rows inserted or completed. */
  historyRowsWritten: number;
  /** Status transition rows inserted. */
  transitions: number;
}

/**
 * Persists a batch of connection events in one transaction, idempotently: applying a batch again,
 * or any of its events again in a later batch, writes no row.
 *
 * Rules:
 * - History (one row per connection): an open fills connected_at, transport and remote_address, a
 *   close fills disconnected_at and disconnect_reason; a set value is never overwritten.
 *   duration_seconds is set once both ends are known, whichever arrived first.
 * - An unknown agent is created with status 'offline'.
 * - connection_epoch is the highest epoch seen in any open or close of the agent, and
 *   current_connection_id the connection it belongs to (its newest connection).
 * - An open with an epoch above connection_epoch makes its connection current, sets
 *   last_connected_at and transport and, unless the agent is online already, sets it online (reason
 *   'connected') and logs one transition (event_id 'open:<connection id>', decided by 'gateway').
 *   An open whose own close came first only fills last_connected_at and transport: it never brings
 *   the agent online. Any other open (a newer connection exists) changes only history.
 * - A close for the newest connection (the current one, or one above every epoch seen, which means
 *   the current one was superseded) makes it current, sets last_disconnected_at and
 *   disconnect_reason and, unless the agent is offline already, sets it offline with the close's
 *   reason and logs one transition (event_id 'close:<connection id>'). A close of an older
 *   connection changes only history: an agent that reconnected stays online. An agent in 'error'
 *   reached from 'offline' (by the sweeper) stays in error on a close of its current connection:
 *   error is left only by a reconnect; the disconnect is recorded without a transition.
 * - A close with a transient reason (TRANSIENT_CLOSE_REASONS: gateway_shutdown, reconnect_requested)
 *   changes only history: the agent is expected back, so it stays online (no transition) until it
 *   reconnects or the sweeper times it out. For the agent row such a close does not exist (its
 *   last_disconnected_at and disconnect_reason tell when and why it was last taken offline).
 * - Once every event of an agent has been applied, in whatever order and batching, status,
 *   current_connection_id and connection_epoch are the same: offline exactly when the newest
 *   connection (by epoch, among those with an open or a non-transient close) has its close among
 *   them. The transition log records the changes as they were applied.
 * - Within a batch, events may come in any order. Per agent they are applied as if the opens (by
 *   epoch) had arrived before the closes (by epoch): a valid arrival order that matches the
 *   reconnect race, so "c1 open, c2 open, c1 close" in one batch leaves the agent online on c2
 *   with no offline blip, and an open and a close of one connection give two transitions.
 *   Duplicates (same type and connection) count once: the first in that order.
 * - status_changed_at is NULL until an agent's first transition, whose from_status is NULL.
 *
 * Concurrency: all agent rows of the batch are locked first, in id order, then history rows in
 * connection id order, so concurrent batches sharing agents serialize per agent and do not
 * deadlock. Throws {@link InvalidBatchError} before writing anything when an event is malformed.
 */
export async function applyConnectionEvents(
  db: DbExecutor,
  events: readonly ConnectionEvent[],
): Promise<ConnectionBatchResult> {
  validateConnectionEvents(events);
  const result: ConnectionBatchResult = {
    agentsCreated: 0,
    agentsUpdated: 0,
    historyRowsWritten: 0,
    transitions: 0,
  };
  if (events.length === 0) return result;
  const rounds = splitIntoRounds(
    events,
    (e) => e.agentId,
    compareConnectionEvents,
    (e) => `${e.type}:${e.connectionId}`,
  );
  await db.transaction(async (tx) => {
    result.agentsCreated = await createAndLockAgents(
      tx,
      events.map((e) => e.agentId),
    );
    result.historyRowsWritten = await upsertHistory(tx, rounds.flat());
    for (const round of rounds) {
      const opens = round.filter((e): e is ConnectionOpened => e.type === 'connection_opened');
      // a transient close changes history only (written above), never the agent
      const closes = round.filter(
        (e): e is ConnectionClosed => e.type === 'connection_closed' && !isTransientClose(e.reason),
      );
      for (const step of [await applyOpens(tx, opens), await applyCloses(tx, closes)]) {
        result.agentsUpdated += step.updated;
        result.transitions += step.transitions;
      }
    }
  });
  return result;
}

/** Per-agent application order within a batch: opens before closes, each by epoch. */
export function compareConnectionEvents(a: ConnectionEvent, b: ConnectionEvent): number {
  const ka = sortKey(a);
  const kb = sortKey(b);
  for (let i = 0; i < ka.length; i++) {
    const c = cmp(ka[i], kb[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function sortKey(e: ConnectionEvent): (string | number | null)[] {
  const open = e.type === 'connection_opened';
  return [
    open ? 0 : 1,
    e.connectionEpoch,
    e.connectionId,
    e.at,
    e.gatewayId,
    open ? e.transport : e.reason,
    open ? e.remoteAddress : null,
  ];
}
