import type { Redis } from 'ioredis';
import { startSampler } from './sampler.js';

/**
 * Keys of the heartbeat flush under a key prefix: the gateways' last-seen sorted set and the
 * flush watermark the worker keeps next to it (apps/worker HeartbeatFlusher.watermarkKey).
 */
export function flushKeys(prefix: string): { lastSeen: string; watermark: string } {
  const lastSeen = `${prefix}lastseen`;
  return { lastSeen, watermark: `${lastSeen}:flushed` };
}

/**
 * The flush lag as the worker defines it (Redis time minus the oldest last-seen scored above the
 * flush watermark; 0 when nothing is unflushed), read at any moment rather than only when a flush
 * run starts. Null while there is no watermark yet.
 */
export async function readFlushLagSeconds(redis: Redis, prefix: string): Promise<number | null> {
  const keys = flushKeys(prefix);
  const [watermark, time] = await Promise.all([redis.get(keys.watermark), redis.time()]);
  if (watermark === null) return null;
  const oldest = await redis.zrange(
    keys.lastSeen,
    `(${watermark}`,
    '+inf',
    'BYSCORE',
    'LIMIT',
    0,
    1,
    'WITHSCORES',
  );
  return lagSeconds(time, oldest[1]);
}

/** Last-seen scores (ms) of `ids` in the last-seen set, null where absent; read in chunks of 1,000. */
export async function readLastSeenScores(
  redis: Redis,
  prefix: string,
  ids: readonly string[],
): Promise<Array<number | null>> {
  const { lastSeen } = flushKeys(prefix);
  const scores: Array<number | null> = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const part = await redis.zmscore(lastSeen, ...ids.slice(i, i + 1000));
    for (const score of part) scores.push(score === null ? null : Number(score));
  }
  return scores;
}

/** `TIME` reply and the oldest unflushed score (ms, as text) -> lag in seconds, never negative. */
export function lagSeconds(time: ReadonlyArray<string | number>, oldestScore: string | undefined): number {
  if (oldestScore === undefined) return 0;
  const nowMs = Number(time[0]) * 1000 + Number(time[1]) / 1000;
  return Math.max(0, (nowMs - Number(oldestScore)) / 1000);
}

/** Reads the flush lag every `intervalMs` (never overlapping) until `stop()`, which returns the samples. */
export function startRedisLagSampler(
  redis: Redis,
  prefix: string,
  intervalMs: number,
): { stop(): Promise<number[]> } {
  return startSampler(async () => {
    const lag = await readFlushLagSeconds(redis, prefix);
    return lag === null ? [] : [lag];
  }, intervalMs);
}
