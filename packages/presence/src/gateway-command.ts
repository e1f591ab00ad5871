import { InvalidCommandError } from './errors.js';

/**
 * Why a gateway is asked to close a connection (the gateway records it as the close reason):
 * - `replaced`: a newer connection of the agent took over;
 * - `reconnect_requested`: an operator or the API asked the agent to reconnect;
 * - `heartbeat_timeout`: the sweeper took the agent offline (no heartbeat within the offline
 *   timeout) while its socket was still open; the agent reconnects if it is alive after all.
 */
export type CloseReason = 'replaced' | 'reconnect_requested' | 'heartbeat_timeout';

/** A command addressed to the gateway holding a connection. JSON on the wire. */
export type GatewayCommand = {
  type: 'close';
  agentId: string;
  connectionId: string;
  reason: CloseReason;
};

const REASONS: ReadonlySet<string> = new Set<CloseReason>([
  'replaced',
  'reconnect_requested',
  'heartbeat_timeout',
]);

/** Serializes a command for the wire (fields in a fixed order, nothing else). */
export function encodeGatewayCommand(cmd: GatewayCommand): string {
  return JSON.stringify({
    type: cmd.type,
    agentId: cmd.agentId,
    connectionId: cmd.connectionId,
    reason: cmd.reason,
  });
}

/** Parses and validates a command from the wire; throws {@link InvalidCommandError} on anything else. */
export function decodeGatewayCommand(raw: string): GatewayCommand {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidCommandError('command is not JSON', raw);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidCommandError('command is not an object', raw);
  }
  const v = value as Record<string, unknown>;
  if (v.type !== 'close') throw new InvalidCommandError(`unknown command type ${String(v.type)}`, raw);
  if (typeof v.agentId !== 'string' || v.agentId === '') {
    throw new InvalidCommandError('agentId must be a non-empty string', raw);
  }
  if (typeof v.connectionId !== 'string' || v.connectionId === '') {
    throw new InvalidCommandError('connectionId must be a non-empty string', raw);
  }
  if (typeof v.reason !== 'string' || !REASONS.has(v.reason)) {
    throw new InvalidCommandError(`unknown close reason ${String(v.reason)}`, raw);
  }
  return { type: 'close', agentId: v.agentId, connectionId: v.connectionId, reason: v.reason as CloseReason };
}
