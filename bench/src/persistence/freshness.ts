import { type Summary, summarize } from '../metrics/stats.js';

/** Each agent's last answered heartbeat: instance uid and send time (epoch ms). */
export interface LastHeartbeats {
  ids: readonly string[];
  sentAt: readonly number[];
}

export interface Freshness {
  agents: number;
  /** Agents not fresh (no row, NULL, or too old), with their last answered heartbeat; not reported. */
  stale: LastHeartbeats;
  withHeartbeat: number;
  fresh: number;
  freshFraction: number;
  toleranceMs: number;
  missing: number;
  stalenessMs: Summary;
}

/**
 * Judges agents.last_seen_at (`lastSeenMs`: id -> epoch ms, null or absent for no value) against
 * every agent's last answered heartbeat. Fresh: last_seen_at >= sent time - `toleranceMs`. The
 * fraction is over all `agents` of the run, so agents that never heartbeated count as not fresh.
 */
export function judgeFreshness(
  agents: number,
  heartbeats: LastHeartbeats,
  lastSeenMs: ReadonlyMap<string, number | null>,
  toleranceMs: number,
): Freshness {
  let fresh = 0;
  let missing = 0;
  const staleness: number[] = [];
  const stale = { ids: [] as string[], sentAt: [] as number[] };
  heartbeats.ids.forEach((id, i) => {
    const seen = lastSeenMs.get(id);
    const sentAt = heartbeats.sentAt[i]!;
    if (seen != null) staleness.push(sentAt - seen);
    if (seen != null && sentAt - seen <= toleranceMs) {
      fresh++;
      return;
    }
    if (seen == null) missing++;
    stale.ids.push(id);
    stale.sentAt.push(sentAt);
  });
  return {
    agents,
    stale,
    withHeartbeat: heartbeats.ids.length,
    fresh,
    freshFraction: agents > 0 ? fresh / agents : 0,
    toleranceMs,
    missing,
    stalenessMs: summarize(staleness),
  };
}

/**
 * The freshness tolerance for a heartbeat interval: half an interval (so a lost final heartbeat
 * shows as stale), at most 2 s.
 */
export function freshnessToleranceMs(heartbeatSeconds: number): number {
  return Math.min(2000, (heartbeatSeconds * 1000) / 2);
}

/**
 * How many `stale` agents Redis has fresh (last-seen score >= sent - tolerance): those the gateway
 * did write but the flush did not carry to Postgres. `scores` are Redis last-seen scores (ms) in the
 * order of `stale.ids`, null where the agent has none.
 */
export function countFreshInRedis(
  stale: LastHeartbeats,
  scores: ReadonlyArray<number | null>,
  toleranceMs: number,
): number {
  let count = 0;
  stale.ids.forEach((_, i) => {
    const score = scores[i];
    if (score != null && stale.sentAt[i]! - score <= toleranceMs) count++;
  });
  return count;
}
