import { REPLACED_CLOSE_REASON } from '@opamp-fleet/opamp';

/**
 * Every reason the gateway closes a WebSocket, with the Close frame it sends. Codes follow RFC 6455;
 * 4000 is private-use (no standard code means "another connection took over this agent").
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
} as const satisfies Record<string, { code: number; reason: string }>;

export type CloseKind = keyof typeof CLOSES;
