import type { Redis } from 'ioredis';

/**
 * The Redis server's clock (the clock last-seen scores are written with), read without a round
 * trip per request: one `TIME` reading, taken at most every `maxAgeMs`, is turned into an offset
 * from this process's monotonic clock (at the midpoint of the round trip), and `now()` adds it.
 *
 * Contract: `now()` is Redis TIME in whole ms, within half a round trip plus the drift of the two
 * clocks over `maxAgeMs` (far below the seconds of an offline timeout). Concurrent callers share one
 * reading. When a reading is due and fails, `now()` rejects (the caller falls back); the next call
 * tries again.
 */
export class RedisClock {
  private offsetMs: number | null = null;
  private readAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<number> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly maxAgeMs = 1000,
  ) {}

  now(): Promise<number> {
    const t = performance.now();
    if (this.offsetMs !== null && t - this.readAt < this.maxAgeMs) {
      return Promise.resolve(Math.floor(t + this.offsetMs));
    }
    this.pending ??= this.read().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async read(): Promise<number> {
    const t0 = performance.now();
    const [seconds, micros] = await this.redis.time();
    const t1 = performance.now();
    const redisMs = Number(seconds) * 1000 + Number(micros) / 1000;
    this.offsetMs = redisMs - (t0 + t1) / 2;
    this.readAt = t1;
    return Math.floor(redisMs);
  }
}
