import type { AgentStatus } from '@opamp-fleet/db';

/** The reason a stale agent reads offline under: the sweeper's reason for the same decision. */
export const STALE_REASON = 'heartbeat_timeout';

/** What read-time status needs of an agent row. */
export interface LivenessInput {
  status: AgentStatus;
  statusReason: string | null;
  lastSeenAt: Date | null;
  lastConnectedAt: Date | null;
}

export interface Liveness {
  status: AgentStatus;
  stale: boolean;
  statusReason: string | null;
  /** The later of the Redis and Postgres last-seen times (ms), or null when neither exists. */
  lastSeenMs: number | null;
  lastSeenSource: 'redis' | 'postgres' | null;
}

/**
 * Read-time status of an agent: the stored status, except that a stored `online` agent whose
 * freshest time - the later of its Redis last-seen score, its Postgres last_seen_at and its
 * last_connected_at - is before `cutoffMs` reads `offline` with `stale: true`. `cutoffMs` is
 * now - OFFLINE_TIMEOUT_SECONDS on the Redis clock (the clock the scores were written with). An
 * online agent with no time at all is not judged stale (Postgres lists it the same way). Offline
 * and error agents are never promoted: a connection is only recorded by its events.
 */
export function deriveLiveness(
  row: LivenessInput,
  redisMs: number | null | undefined,
  cutoffMs: number,
): Liveness {
  const pgMs = row.lastSeenAt?.getTime() ?? null;
  const redis = redisMs ?? null;
  let lastSeenMs: number | null = null;
  let lastSeenSource: Liveness['lastSeenSource'] = null;
  if (redis !== null && (pgMs === null || redis >= pgMs)) {
    lastSeenMs = redis;
    lastSeenSource = 'redis';
  } else if (pgMs !== null) {
    lastSeenMs = pgMs;
    lastSeenSource = 'postgres';
  }
  const connectedMs = row.lastConnectedAt?.getTime() ?? null;
  const freshest = lastSeenMs === null ? connectedMs : Math.max(lastSeenMs, connectedMs ?? lastSeenMs);
  const stale = row.status === 'online' && freshest !== null && freshest < cutoffMs;
  return {
    status: stale ? 'offline' : row.status,
    stale,
    statusReason: stale ? STALE_REASON : row.statusReason,
    lastSeenMs,
    lastSeenSource,
  };
}
