import { eventually, type PrivateRedis, privateRedis } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandBus } from './command-bus.js';
import { createPresenceRedis } from './redis-client.js';

// Restarts: only ever on a private redis-server.
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

describe('CommandBus across a Redis restart', () => {
  it('restores the subscription after a reconnect', async () => {
    const errors: unknown[] = [];
    const receiver = createCommandBus({ redis, observer: { onError: (e) => errors.push(e) } });
    const got: string[] = [];
    await receiver.subscribe('gw-1', (cmd) => void got.push(cmd.agentId));

    await server.kill9();
    await server.restart();
    await eventually(() => expect(redis.status).toBe('ready'), { timeoutMs: 10_000 });

    const cmd = { type: 'close', agentId: 'after', connectionId: 'c', reason: 'replaced' } as const;
    await eventually(async () => expect(await receiver.send('gw-1', cmd)).toBe(1), { timeoutMs: 10_000 });
    await eventually(() => expect(got).toContain('after'));
    expect(errors.every((e) => e instanceof Error)).toBe(true); // reported, never thrown

    await server.kill9();
    await receiver.close(); // does not hang while Redis is down
    await server.restart();
  });
});
