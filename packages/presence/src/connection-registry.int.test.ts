import { type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionRegistry, createConnectionRegistry } from './connection-registry.js';
import { PresenceDataError } from './errors.js';
import { presenceKeys } from './keys.js';
import { createPresenceRedis } from './redis-client.js';

let fx: RedisFixture;
let redis: Redis;
let registry: ConnectionRegistry;
let keyPrefix: string;

beforeAll(async () => {
  fx = await redisFixture();
  keyPrefix = fx.prefix;
  redis = createPresenceRedis({ url: fx.url, redisOptions: { lazyConnect: true } });
  await redis.connect();
  registry = createConnectionRegistry({ redis, keyPrefix, chunkSize: 3 });
});

afterAll(async () => {
  redis.disconnect();
  await fx.stop();
});

const A1 = { gatewayId: 'gw-a', connectionId: 'c1' };
const A2 = { gatewayId: 'gw-a', connectionId: 'c2' };
const B1 = { gatewayId: 'gw-b', connectionId: 'c1' };

describe('ConnectionRegistry', () => {
  it('claim returns the previous owner; lookup sees the current one', async () => {
    expect(await registry.lookup('agent-1')).toBeNull();
    expect(await registry.claim('agent-1', A1)).toBeNull();
    expect(await registry.lookup('agent-1')).toEqual(A1);
    expect(await registry.claim('agent-1', B1)).toEqual(A1);
    expect(await registry.lookup('agent-1')).toEqual(B1);
  });

  it('release deletes only when the owner matches exactly (a late close ends nothing)', async () => {
    await registry.claim('agent-2', A1);
    await registry.claim('agent-2', A2); // reconnected to the same gateway, new connection
    expect(await registry.release('agent-2', A1)).toBe(false); // late close of the old connection
    expect(await registry.lookup('agent-2')).toEqual(A2);
    expect(await registry.release('agent-2', { gatewayId: 'gw-b', connectionId: 'c2' })).toBe(false);
    expect(await registry.release('agent-2', A2)).toBe(true);
    expect(await registry.lookup('agent-2')).toBeNull();
    expect(await registry.release('agent-2', A2)).toBe(false);
  });

  it('reannounce fills gaps, keeps equal entries, and reports conflicts across chunks', async () => {
    await registry.claim('r-held-by-b', B1);
    await registry.claim('r-same', A1);
    await registry.claim('r-held-by-b-2', B1);
    const conflicts = await registry.reannounce([
      { agentId: 'r-new-1', owner: A1 },
      { agentId: 'r-held-by-b', owner: A1 },
      { agentId: 'r-same', owner: A1 },
      { agentId: 'r-new-2', owner: A2 },
      { agentId: 'r-new-3', owner: A1 },
      { agentId: 'r-held-by-b-2', owner: A2 },
      { agentId: 'r-new-4', owner: A1 },
    ]);
    expect(conflicts).toEqual([
      { agentId: 'r-held-by-b', current: B1 },
      { agentId: 'r-held-by-b-2', current: B1 },
    ]);
    expect(await registry.lookup('r-new-1')).toEqual(A1);
    expect(await registry.lookup('r-new-2')).toEqual(A2);
    expect(await registry.lookup('r-new-4')).toEqual(A1);
    expect(await registry.lookup('r-held-by-b')).toEqual(B1); // never stolen
    expect(await registry.reannounce([])).toEqual([]);
  });

  it('noteTakeover counts within a window that starts at the first takeover', async () => {
    expect(await registry.noteTakeover('clone', 60_000)).toBe(1);
    expect(await registry.noteTakeover('clone', 60_000)).toBe(2);
    expect(await registry.noteTakeover('clone', 60_000)).toBe(3);
    const ttl = await redis.pttl(presenceKeys(keyPrefix).takeover('clone'));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await registry.noteTakeover('other', 60_000)).toBe(1);

    // a counter that lost its expiry gets one again
    await redis.set(presenceKeys(keyPrefix).takeover('no-ttl'), '5');
    expect(await registry.noteTakeover('no-ttl', 1000)).toBe(6);
    expect(await redis.pttl(presenceKeys(keyPrefix).takeover('no-ttl'))).toBeGreaterThan(0);
    await expect(registry.noteTakeover('clone', 0)).rejects.toThrow(/windowMs/);
  });

  it('claims of one agent from two gateways at once leave exactly one owner, seen by the other', async () => {
    const results = await Promise.all([registry.claim('race', A1), registry.claim('race', B1)]);
    const final = await registry.lookup('race');
    expect([A1, B1]).toContainEqual(final);
    // exactly one claim saw no previous owner; the other saw the first one
    expect(results.filter((r) => r === null)).toHaveLength(1);
  });

  it('reports foreign data in the owners hash as PresenceDataError', async () => {
    await redis.hset(presenceKeys(keyPrefix).owners, 'corrupt', 'not-json');
    await expect(registry.lookup('corrupt')).rejects.toThrow(PresenceDataError);
  });
});
