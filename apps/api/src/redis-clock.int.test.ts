import { type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisClock } from './redis-clock.js';

let fx: RedisFixture;
let redis: Redis;

beforeAll(async () => {
  fx = await redisFixture();
  redis = fx.client();
});
afterAll(async () => {
  await fx?.stop();
});

async function redisNowMs(): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Number(us) / 1000;
}

describe('RedisClock', () => {
  it('follows the Redis clock between readings, with one TIME per max age for concurrent callers', async () => {
    const spy = vi.spyOn(redis, 'time');
    const clock = new RedisClock(redis, 200);
    const before = await redisNowMs();
    const first = await Promise.all([clock.now(), clock.now(), clock.now()]);
    const after = await redisNowMs();
    const timeCalls = spy.mock.calls.length;
    expect(timeCalls).toBe(3); // one reading shared by three callers, plus the two of redisNowMs
    for (const t of first) {
      expect(t).toBeGreaterThanOrEqual(Math.floor(before));
      expect(t).toBeLessThanOrEqual(Math.ceil(after));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    // within the max age: no new reading, the local clock advances it
    const mid = await clock.now();
    expect(spy.mock.calls.length).toBe(timeCalls);
    const truth = await redisNowMs();
    expect(Math.abs(mid - truth)).toBeLessThan(25);
    expect(mid).toBeGreaterThanOrEqual(first[0]! + 40);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // past the max age: read again
    await clock.now();
    expect(spy.mock.calls.length).toBe(timeCalls + 2);
    spy.mockRestore();
  });

  it('rejects when a due reading fails, and reads again on the next call', async () => {
    const broken = fx.client({ lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const clock = new RedisClock(broken, 1000);
    // not connected yet and no offline queue: the command fails at once (and starts connecting)
    await expect(clock.now()).rejects.toThrow();
    if (broken.status !== 'ready') await new Promise((resolve) => broken.once('ready', resolve));
    const t = await clock.now();
    expect(Math.abs(t - (await redisNowMs()))).toBeLessThan(25);
  });
});
