import { REPLACED_CLOSE_REASON } from '@opamp-fleet/opamp';

/**
 * Every reason the gateway closes a WebSocket, with the Close frame it sends. Codes follow RFC 6455;
 * 4000-4999 are private-use, for reasons no standard code means: 4000 "another connection took over
 * this agent", 4001 "the sweeper took this agent offline: no heartbeat within the offline timeout"
 * (the agent reconnects if it is alive after all, which brings it online again).
 */
export const CLOSES = {
  goodbye: { code: 1000, reason: 'agent_disconnect' },
  draining: { code: 1001, reason: 'server shutting down' },
  malformed: { code: 1008, reason: 'too many malformed messages' },
  first_message_timeout: { code: 1008, reason: 'no message received in time' },
  flood: { code: 1008, reason: 'too many messages in flight' },
  too_large: { code: 1009, reason: 'message too large' },
  reconnect_requested: { code: 1012, reason: 'reconnect requested' },
  replaced: { code: 4000, reason: REPLACED_CLOSE_REASON },
  heartbeat_timeout: { code: 4001, reason: 'heartbeat_timeout' },
} as const satisfies Record<string, { code: number; reason: string }>;

export type CloseKind = keyof typeof CLOSES;

/**
 * The `reason` of a connection_closed event:
 * - `agent_disconnect`: the agent said goodbye (agent_disconnect), over WebSocket or plain HTTP;
 * - `connection_closed`: the peer closed the WebSocket or the socket failed;
 * - `gateway_shutdown`: this gateway drained its connections (SIGTERM);
 * - `replaced`: a newer connection of the agent took over (on any gateway, or over plain HTTP a
 *   WebSocket or a restarted agent's new session), or a re-announce found another owner;
 * - `reconnect_requested`: closed on request through the command channel;
 * - `heartbeat_timeout`: the sweeper took the agent offline (no heartbeat within the offline
 *   timeout) and asked, through the command channel, for its still-open socket to be closed;
 * - `protocol_error`: too many malformed messages, an oversized message, or a message flood;
 * - `idle_timeout`: no data and no pong within WS_IDLE_TIMEOUT_SECONDS;
 * - `instance_uid_changed`: the agent went on under another instance_uid on the same socket.
 */
export type ConnectionCloseReason =
  | 'agent_disconnect'
  | 'connection_closed'
  | 'gateway_shutdown'
  | 'replaced'
  | 'reconnect_requested'
  | 'heartbeat_timeout'
  | 'protocol_error'
  | 'idle_timeout'
  | 'instance_uid_changed';

/** The event reason of each close the gateway decides. */
export const CLOSE_EVENT_REASONS = {
  goodbye: 'agent_disconnect',
  draining: 'gateway_shutdown',
  malformed: 'protocol_error',
  first_message_timeout: 'idle_timeout',
  flood: 'protocol_error',
  too_large: 'protocol_error',
  reconnect_requested: 'reconnect_requested',
  replaced: 'replaced',
  heartbeat_timeout: 'heartbeat_timeout',
} as const satisfies Record<CloseKind, ConnectionCloseReason>;
