import { InvalidBatchError } from './errors.js';
import type { AgentDescription, JsonValue, Transport } from './schema/agents.js';

/**
 * A connection was accepted by a gateway. `connectionEpoch` comes from a Redis INCR: every
 * connection gets a strictly larger epoch than the ones before it, so a higher epoch is newer
 * whatever the gateways' clocks say. `at` is ms since the Unix epoch on the gateway's clock.
 */
export interface ConnectionOpened {
  type: 'connection_opened';
  agentId: string;
  connectionId: string;
  connectionEpoch: number;
  gatewayId: string;
  transport: Transport;
  remoteAddress: string | null;
  at: number;
}

/**
 * Close reasons after which the agent is expected back at once: its gateway drained
 * (`gateway_shutdown`, a rolling restart) or an operator asked it to reconnect
 * (`reconnect_requested`). Such a close ends the connection in the history but does not take the
 * agent offline: it stays online until it reconnects, or until the sweeper times it out.
 */
export const TRANSIENT_CLOSE_REASONS = ['gateway_shutdown', 'reconnect_requested'] as const;
export type TransientCloseReason = (typeof TRANSIENT_CLOSE_REASONS)[number];

/** Whether a close with `reason` is transient (see TRANSIENT_CLOSE_REASONS). */
export function isTransientClose(reason: string): boolean {
  return (TRANSIENT_CLOSE_REASONS as readonly string[]).includes(reason);
}

/** A connection ended; `reason` says why (agent_disconnect, heartbeat_timeout, gateway_shutdown, ...). */
export interface ConnectionClosed {
  type: 'connection_closed';
  agentId: string;
  connectionId: string;
  connectionEpoch: number;
  gatewayId: string;
  reason: string;
  at: number;
}

export type ConnectionEvent = ConnectionOpened | ConnectionClosed;

/**
 * The agent reported state on the connection of `connectionEpoch` with `sequenceNum`. Only the
 * fields present (not undefined or null) change; updates are ordered by (connectionEpoch, sequenceNum).
 */
export interface AgentStateChanged {
  type: 'agent_state';
  agentId: string;
  connectionEpoch: number;
  sequenceNum: number;
  /** When the gateway received the report (ms); validated but not used for ordering. */
  at: number;
  description?: AgentDescription;
  /** AgentCapabilities bit mask. */
  capabilities?: number;
  /** ComponentHealth as JSON. */
  health?: JsonValue;
  effectiveConfigHash?: string;
}

/** Every event this package persists. */
export type FleetEvent = ConnectionEvent | AgentStateChanged;

function fail(index: number, what: string, value: unknown): never {
  throw new InvalidBatchError(
    `event ${index}: ${what}, got ${JSON.stringify(value) ?? String(value)}`,
    index,
  );
}

function requireId(index: number, field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0)
    fail(index, `${field} must be a non-empty string`, value);
}

function requireInt(index: number, field: string, value: unknown, min: number): void {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    fail(index, `${field} must be a safe integer >= ${min}`, value);
  }
}

function requireTime(index: number, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(index, 'at must be a finite number (ms)', value);
}

/** Throws {@link InvalidBatchError} for the first event that cannot be persisted. */
export function validateConnectionEvents(events: readonly ConnectionEvent[]): void {
  events.forEach((e, i) => {
    const type: string = e.type;
    if (type !== 'connection_opened' && type !== 'connection_closed') fail(i, 'unknown type', type);
    requireId(i, 'agentId', e.agentId);
    requireId(i, 'connectionId', e.connectionId);
    requireId(i, 'gatewayId', e.gatewayId);
    requireInt(i, 'connectionEpoch', e.connectionEpoch, 1);
    requireTime(i, e.at);
    if (e.type === 'connection_opened') {
      if (e.transport !== 'ws' && e.transport !== 'http')
        fail(i, "transport must be 'ws' or 'http'", e.transport);
      if (e.remoteAddress !== null && typeof e.remoteAddress !== 'string') {
        fail(i, 'remoteAddress must be a string or null', e.remoteAddress);
      }
    } else if (typeof e.reason !== 'string') {
      fail(i, 'reason must be a string', e.reason);
    }
  });
}

/** Throws {@link InvalidBatchError} for the first event that cannot be persisted. */
export function validateStateEvents(events: readonly AgentStateChanged[]): void {
  events.forEach((e, i) => {
    const type: string = e.type;
    if (type !== 'agent_state') fail(i, 'unknown type', type);
    requireId(i, 'agentId', e.agentId);
    requireInt(i, 'connectionEpoch', e.connectionEpoch, 1);
    requireInt(i, 'sequenceNum', e.sequenceNum, 0);
    requireTime(i, e.at);
    if (e.capabilities != null) requireInt(i, 'capabilities', e.capabilities, 0);
    if (e.effectiveConfigHash != null && typeof e.effectiveConfigHash !== 'string') {
      fail(i, 'effectiveConfigHash must be a string', e.effectiveConfigHash);
    }
  });
}
