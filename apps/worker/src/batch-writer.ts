import {
  type AgentStateChanged,
  applyConnectionEvents,
  applyStateEvents,
  type ConnectionEvent,
  type Db,
  InvalidBatchError,
} from '@opamp-fleet/db';
import { type AgentEvent, type AgentEventType, type EventBatch, PermanentJobError } from '@opamp-fleet/queue';

/** What one written batch held, for metrics. */
export interface BatchWritten {
  readonly counts: Readonly<Record<AgentEventType, number>>;
}

/** The events of a batch split by the repository that writes them, in batch order. */
export function splitBatch(events: readonly AgentEvent[]): {
  connection: ConnectionEvent[];
  state: AgentStateChanged[];
  counts: Record<AgentEventType, number>;
} {
  const connection: ConnectionEvent[] = [];
  const state: AgentStateChanged[] = [];
  const counts: Record<AgentEventType, number> = {
    connection_opened: 0,
    connection_closed: 0,
    agent_state: 0,
  };
  for (const e of events) {
    counts[e.type] += 1;
    if (e.type === 'agent_state') state.push(e);
    else connection.push(e);
  }
  return { connection, state, counts };
}

/**
 * SQLSTATE classes whose errors come from the data itself: 22 (data exception) and 23 (integrity
 * constraint violation). Re-running the same batch fails the same way.
 */
const PERMANENT_SQLSTATE = /^(22|23)[0-9A-Z]{3}$/;

/** True when retrying cannot help: a malformed batch, or Postgres rejecting its content. */
export function isPermanentWriteError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    if (e instanceof InvalidBatchError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && PERMANENT_SQLSTATE.test(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Writes event batches, one job's or a group of jobs' together: their events' connection events in
 * one transaction, then state events in another. Both repositories are idempotent and converge
 * whatever the batching and order of the events, so a group leaves what writing each batch would,
 * and a write that fails between the two transactions (or runs twice) converges. Errors that
 * retrying cannot fix become {@link PermanentJobError}; others propagate (the jobs retry).
 */
export async function writeBatches(db: Db, batches: readonly EventBatch[]): Promise<BatchWritten> {
  const { connection, state, counts } = splitBatch(batches.flatMap((b) => b.events));
  try {
    if (connection.length > 0) await applyConnectionEvents(db, connection);
    if (state.length > 0) await applyStateEvents(db, state);
  } catch (err) {
    if (isPermanentWriteError(err)) {
      const names = batches.map((b) => `${b.producerId}#${b.seq}`).join(', ');
      throw new PermanentJobError(`batch ${names} rejected: ${describe(err)}`, { cause: err });
    }
    throw err;
  }
  return { counts };
}

/** The error's name and message, cut short: a failed query's message can carry the whole batch. */
function describe(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
