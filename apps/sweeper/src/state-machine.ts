import { isTransientClose, type TransientCloseReason } from '@opamp-fleet/db';

/**
 * The agent status machine: online -> offline -> error, and back to online on reconnect.
 *
 * Who decides what:
 * - the gateway's connection events (persisted by the worker): `connected` brings an offline or
 *   errored agent online; a close with one of {@link GATEWAY_OFFLINE_REASONS} takes an online agent
 *   offline at once; a close with one of {@link TRANSIENT_CLOSE_REASONS} (its gateway drained, or it
 *   was asked to reconnect) changes nothing: the agent is expected back at once, and if it does not
 *   come back the sweeper's heartbeat timeout takes it offline;
 * - the sweeper: `heartbeat_timeout` takes an online agent offline once its last-seen is older than
 *   the offline timeout (the fallback for silent loss); `offline_too_long` moves an agent offline
 *   for longer than the error threshold to error.
 * Every transition is one compare-and-set of the agent plus one transition row, written only when
 * the compare-and-set changed the agent; events that do not apply to the current status change
 * nothing. The SQL of the sweeper's transitions lives in @opamp-fleet/db (markOffline, markError).
 */

export type AgentStatus = 'online' | 'offline' | 'error';

/** Close reasons reported by gateways that take an online agent offline immediately. */
export const GATEWAY_OFFLINE_REASONS = ['agent_disconnect', 'connection_closed', 'replaced'] as const;
export type GatewayOfflineReason = (typeof GATEWAY_OFFLINE_REASONS)[number];

// Close reasons after which the agent reconnects at once: no transition. The list is the one the
// worker applies (@opamp-fleet/db), re-exported so the model and the worker cannot disagree.
export { TRANSIENT_CLOSE_REASONS, type TransientCloseReason } from '@opamp-fleet/db';

/** Reason of an offline decided by the sweeper: no heartbeat within the offline timeout. */
export const HEARTBEAT_TIMEOUT = 'heartbeat_timeout';
/** Reason of an error decided by the sweeper: offline for longer than the error threshold. */
export const OFFLINE_TOO_LONG = 'offline_too_long';
/** Reason recorded when a connection brings an agent online. */
export const CONNECTED = 'connected';

export type StatusEvent =
  | { type: 'connected' }
  | { type: 'closed'; reason: GatewayOfflineReason | TransientCloseReason }
  | { type: 'heartbeat_timeout' }
  | { type: 'offline_too_long' };

export type DecidedBy = 'gateway' | 'sweeper';

export interface Transition {
  from: AgentStatus;
  to: AgentStatus;
  reason: string;
  decidedBy: DecidedBy;
}

/** The transition `event` causes from `from`, or null when it changes nothing. */
export function nextStatus(from: AgentStatus, event: StatusEvent): Transition | null {
  switch (event.type) {
    case 'connected':
      return from === 'online' ? null : { from, to: 'online', reason: CONNECTED, decidedBy: 'gateway' };
    case 'closed':
      if (isTransientClose(event.reason)) return null;
      return from === 'online' ? { from, to: 'offline', reason: event.reason, decidedBy: 'gateway' } : null;
    case 'heartbeat_timeout':
      return from === 'online'
        ? { from, to: 'offline', reason: HEARTBEAT_TIMEOUT, decidedBy: 'sweeper' }
        : null;
    case 'offline_too_long':
      return from === 'offline'
        ? { from, to: 'error', reason: OFFLINE_TOO_LONG, decidedBy: 'sweeper' }
        : null;
  }
}

/** Last-seen scores at or below this (ms, Redis clock) are expired at `nowMs`. */
export function offlineCutoff(nowMs: number, offlineTimeoutSeconds: number): number {
  return nowMs - offlineTimeoutSeconds * 1000;
}

/** Agents offline since this time or earlier (ms) are due for error at `nowMs`. */
export function errorCutoff(nowMs: number, errorAfterSeconds: number): number {
  return nowMs - errorAfterSeconds * 1000;
}

/** A last-seen entry: agent id and score (ms). */
export interface LastSeenEntry {
  agentId: string;
  score: number;
}

export interface ExpiryCheck {
  /** Still expired at the re-check; `score` is the re-checked one (what a removal compares with). */
  confirmed: LastSeenEntry[];
  /** Touched since the first read: alive, left alone. */
  refreshed: string[];
  /** Gone from the set since the first read (removed by someone else): left alone. */
  vanished: string[];
}

/**
 * Second phase of two-phase expiry: of the entries found expired (`found`), keeps those whose
 * re-read score (`rechecked`, null when missing) is still at or below `cutoff`. A heartbeat between
 * the two reads therefore always wins.
 */
export function confirmExpired(
  found: readonly LastSeenEntry[],
  rechecked: ReadonlyMap<string, number | null>,
  cutoff: number,
): ExpiryCheck {
  const out: ExpiryCheck = { confirmed: [], refreshed: [], vanished: [] };
  for (const entry of found) {
    const score = rechecked.get(entry.agentId) ?? null;
    if (score === null) out.vanished.push(entry.agentId);
    else if (score > cutoff) out.refreshed.push(entry.agentId);
    else out.confirmed.push({ agentId: entry.agentId, score });
  }
  return out;
}

/** How late a detection is: seconds from the agent's deadline (last-seen + timeout) to `nowMs`. */
export function detectionLagSeconds(
  lastSeenMs: number,
  nowMs: number,
  offlineTimeoutSeconds: number,
): number {
  return Math.max(0, (nowMs - (lastSeenMs + offlineTimeoutSeconds * 1000)) / 1000);
}
