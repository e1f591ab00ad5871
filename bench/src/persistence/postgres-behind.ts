import type { Redis } from 'ioredis';
import type postgres from 'postgres';
import { readLastSeen } from './postgres-probe.js';
import { flushKeys } from './redis-lag.js';
import { startSampler } from './sampler.js';

/**
 * How far Postgres is behind Redis for each agent: its last-seen in Redis minus its
 * agents.last_seen_at, in seconds, never negative (Postgres is read after Redis). Agents without a
 * value in Postgres are left out.
 */
export function behindSeconds(
  redisScores: ReadonlyArray<{ id: string; score: number }>,
  postgresMs: ReadonlyMap<string, number | null>,
): number[] {
  const out: number[] = [];
  for (const { id, score } of redisScores) {
    const pg = postgresMs.get(id);
    if (pg != null) out.push(Math.max(0, (score - pg) / 1000));
  }
  return out;
}

/** Up to `count` random agents' Redis last-seen (ZRANDMEMBER ... WITHSCORES). */
async function randomScores(
  redis: Redis,
  prefix: string,
  count: number,
): Promise<Array<{ id: string; score: number }>> {
  const flat = await redis.zrandmember(flushKeys(prefix).lastSeen, count, 'WITHSCORES');
  const out: Array<{ id: string; score: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i]!, score: Number(flat[i + 1]) });
  return out;
}

/**
 * Every `intervalMs` (never overlapping), reads `sampleSize` random agents from Redis and then from
 * Postgres and records how far Postgres is behind for each, until `stop()`, which returns every
 * reading in seconds. This is the staleness a reader of Postgres sees, which the flush lag (bounded
 * by the heartbeat interval while every agent heartbeats) does not show.
 */
export function startPostgresBehindSampler(
  redis: Redis,
  prefix: string,
  sql: postgres.Sql,
  sampleSize: number,
  intervalMs: number,
): { stop(): Promise<number[]> } {
  return startSampler(async () => {
    const scores = await randomScores(redis, prefix, sampleSize);
    const pg = await readLastSeen(
      sql,
      scores.map((s) => s.id),
    );
    return behindSeconds(scores, pg);
  }, intervalMs);
}
