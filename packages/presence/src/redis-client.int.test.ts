import { freePorts, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPresenceRedis, waitForRedis } from './redis-client.js';

let fx: RedisFixture;
const clients: Redis[] = [];
beforeAll(async () => {
  fx = await redisFixture();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});
afterAll(async () => {
  await fx?.stop();
});

const client = (url: string) => {
  const c = createPresenceRedis({ url, maxReconnectDelayMs: 50, onError: () => {} });
  clients.push(c);
  return c;
};

describe('waitForRedis', () => {
  it('resolves true once a connecting client is ready, and at once when it already is', async () => {
    const redis = client(fx.url);
    expect(redis.status).not.toBe('ready');
    expect(await waitForRedis(redis, 10_000)).toBe(true);
    expect(await redis.ping()).toBe('PONG');
    // already ready: true without waiting, even with a wait too short for any event
    expect(await waitForRedis(redis, 1)).toBe(true);
  });

  it('resolves false after the wait when nothing listens, and leaves the client reconnecting', async () => {
    const [port] = await freePorts(1);
    const redis = client(`redis://127.0.0.1:${port}`);
    const listeners = redis.listenerCount('ready');
    const t0 = performance.now();
    expect(await waitForRedis(redis, 300)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(redis.listenerCount('ready')).toBe(listeners);
    expect(['connecting', 'reconnecting', 'connect']).toContain(redis.status);
    await expect(redis.ping()).rejects.toThrow();
  });
});
