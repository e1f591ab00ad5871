import { PresenceOptionError } from './errors.js';

/** Prefix of every key and channel this package uses unless configured otherwise. */
export const DEFAULT_KEY_PREFIX = 'opamp:';

/**
 * Names of every Redis key and channel of the presence layer, built from one prefix.
 *
 * Redis Cluster: the touch script writes the last-seen set and many session hashes in one call, so all
 * keys must hash to one slot. Use a prefix with a hash tag there, e.g. `{opamp}:`; on a single Redis or
 * with Sentinel any prefix works.
 */
export interface PresenceKeys {
  readonly prefix: string;
  /** Sorted set: member = agent id, score = last-seen ms since the Unix epoch (Redis clock). */
  readonly lastSeen: string;
  /**
   * Sorted set like `lastSeen`, holding only touches written late (at least LATE_TOUCH_AGE_MS after
   * the gateway saw the agent) until the heartbeat flush has written them to Postgres.
   */
  readonly lateSeen: string;
  /** Hash: field = agent id, value = encoded {@link Owner} of its live connection. */
  readonly owners: string;
  /** String holding the data epoch; its loss reveals a Redis restart, FLUSHALL or lossy failover. */
  readonly epoch: string;
  /**
   * Counter of connection epochs: every connection (a WebSocket bound to an agent, or a plain-HTTP
   * session) takes the next value, so epochs order connections across gateways without any clock.
   */
  readonly connEpoch: string;
  /** Hash with the compressed-status state of one agent. */
  session(agentId: string): string;
  /** Counter of recent takeovers of one agent (duplicate instance uid detection). */
  takeover(agentId: string): string;
  /** Pub/sub channel of one gateway. */
  gatewayChannel(gatewayId: string): string;
}

/** Builds the key names for `prefix` (default {@link DEFAULT_KEY_PREFIX}). */
export function presenceKeys(prefix: string = DEFAULT_KEY_PREFIX): PresenceKeys {
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw new PresenceOptionError('keyPrefix must be a non-empty string');
  }
  return {
    prefix,
    lastSeen: `${prefix}lastseen`,
    lateSeen: `${prefix}lastseen:late`,
    owners: `${prefix}owners`,
    epoch: `${prefix}epoch`,
    connEpoch: `${prefix}conn_epoch`,
    session: (agentId) => `${prefix}session:${agentId}`,
    takeover: (agentId) => `${prefix}takeover:${agentId}`,
    gatewayChannel: (gatewayId) => `${prefix}gw:${gatewayId}`,
  };
}

/** Name of the last-seen sorted set for `prefix`. */
export function lastSeenKey(prefix: string = DEFAULT_KEY_PREFIX): string {
  return presenceKeys(prefix).lastSeen;
}
