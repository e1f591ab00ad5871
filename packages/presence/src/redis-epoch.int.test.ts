import { eventually, type PrivateRedis, privateRedis } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresenceRedis } from './redis-client.js';
import { createRedisEpoch } from './redis-epoch.js';

// FLUSHALL and restarts: only ever on a private redis-server.
let server: PrivateRedis;
let redis: Redis;

beforeAll(async () => {
  server = await privateRedis();
  redis = createPresenceRedis({ url: server.url, maxReconnectDelayMs: 50, onError: () => {} });
  await eventually(() => expect(redis.status).toBe('ready'));
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('RedisEpoch', () => {
  it('is stable while data survives and changes after FLUSHALL and after a restart', async () => {
    const gateway1 = createRedisEpoch({ redis, keyPrefix: 'e:' });
    const gateway2 = createRedisEpoch({ redis, keyPrefix: 'e:' });
    expect(gateway1.current).toBeNull();

    const first = await gateway1.check();
    expect(first.changed).toBe(false);
    expect(first.runIdChanged).toBe(false);
    expect(first.runId).toMatch(/^[0-9a-f]{40}$/);
    expect(gateway1.current).toBe(first.epoch);
    // every process sees the same epoch
    expect((await gateway2.check()).epoch).toBe(first.epoch);
    expect(await gateway1.check()).toEqual({ ...first, changed: false });

    await redis.flushall();
    const afterFlush = await gateway1.check();
    expect(afterFlush.changed).toBe(true);
    expect(afterFlush.runIdChanged).toBe(false);
    expect(afterFlush.epoch).not.toBe(first.epoch);
    const other = await gateway2.check();
    expect(other.changed).toBe(true);
    expect(other.epoch).toBe(afterFlush.epoch);
    expect((await gateway1.check()).changed).toBe(false);

    await server.kill9();
    await expect(gateway1.check()).rejects.toThrow();
    await server.restart();
    await eventually(() => expect(redis.status).toBe('ready'), { timeoutMs: 10_000 });
    // the failed check did not hide the change from the next one
    const afterRestart = await gateway1.check();
    expect(afterRestart.changed).toBe(true);
    expect(afterRestart.runIdChanged).toBe(true);
  });

  it('serializes concurrent checks', async () => {
    const epoch = createRedisEpoch({ redis, keyPrefix: 'c:' });
    const results = await Promise.all([epoch.check(), epoch.check(), epoch.check()]);
    expect(results.map((r) => r.changed)).toEqual([false, false, false]);
    expect(new Set(results.map((r) => r.epoch)).size).toBe(1);
  });
});
