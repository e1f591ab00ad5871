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
    expect((await registry.claim('agent-1', A1)).previous).toBeNull();
    expect(await registry.lookup('agent-1')).toEqual(A1);
    expect((await registry.claim('agent-1', B1)).previous).toEqual(A1);
    expect(await registry.lookup('agent-1')).toEqual(B1);
  });

  it('claim hands out strictly increasing epochs, shared by every registry on the prefix', async () => {
    const other = createConnectionRegistry({ redis, keyPrefix });
    const epochs: number[] = [];
    for (let i = 0; i < 5; i++) {
      epochs.push((await registry.claim('epochs', A1)).epoch);
      epochs.push((await other.claim(`epochs-${i}`, B1)).epoch);
    }
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBe(epochs[i - 1]! + 1);
    expect(Number.isSafeInteger(epochs[0])).toBe(true);
  });

  it('a lost epoch counter restarts from the Redis clock, above every epoch handed out before', async () => {
    const key = presenceKeys(keyPrefix).connEpoch;
    await registry.claim('lost', A1);
    await redis.set(key, '1000'); // pretend a long history of small epochs
    const before = (await registry.claim('lost', A2)).epoch;
    expect(before).toBe(1001);
    await redis.del(key); // lost with Redis data
    const [s, us] = await redis.time();
    const after = (await registry.claim('lost', A1)).epoch;
    expect(after).toBeGreaterThan(Number(s) * 1_000_000 + Number(us) - 1);
    expect(after).toBeLessThan(Number.MAX_SAFE_INTEGER);
    expect(await redis.get(key)).toBe(String(after)); // stored as a plain integer
  });

  it('concurrent claims of one agent: the later claim holds the greater epoch', async () => {
    const [a, b] = await Promise.all([registry.claim('order', A1), registry.claim('order', B1)]);
    const later = a.previous === null ? b : a;
    const final = await registry.lookup('order');
    expect(final).toEqual(later === a ? A1 : B1);
    expect(later.epoch).toBeGreaterThan((later === a ? b : a).epoch);
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

  it('releaseMany compare-and-deletes every entry across chunks', async () => {
    const entries = [];
    for (let i = 0; i < 7; i++) {
      const owner = { gatewayId: 'gw-a', connectionId: `m${i}` };
      await registry.claim(`many-${i}`, owner);
      entries.push({ agentId: `many-${i}`, owner });
    }
    await registry.claim('many-3', A2); // taken over: its old owner's release ends nothing
    expect(await registry.releaseMany([...entries, { agentId: 'many-none', owner: A1 }])).toBe(6);
    expect(await registry.lookup('many-3')).toEqual(A2);
    for (const i of [0, 1, 2, 4, 5, 6]) expect(await registry.lookup(`many-${i}`)).toBeNull();
    expect(await registry.releaseMany([])).toBe(0);
  });

  it('reannounce fills gaps, keeps equal entries, and reports conflicts across chunks', async () => {
    await registry.claim('r-held-by-b', B1);
    await registry.claim('r-same', A1);
    await registry.claim('r-held-by-b-2', B1);
    const { conflicts, epochs } = await registry.reannounce([
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
    expect(epochs).toEqual([]);
    expect(await registry.reannounce([])).toEqual({ conflicts: [], epochs: [] });
  });

  it('reannounce gives an epoch to entries that need one and hold the agent, across chunks', async () => {
    await registry.claim('e-held-by-b', B1);
    await registry.claim('e-same', A1);
    const { epochs: before } = await registry.reannounce([
      { agentId: 'e-probe', owner: A1, needsEpoch: true },
    ]);
    const { conflicts, epochs } = await registry.reannounce([
      { agentId: 'e-same', owner: A1, needsEpoch: true },
      { agentId: 'e-held-by-b', owner: A2, needsEpoch: true },
      { agentId: 'e-plain', owner: A1 },
      { agentId: 'e-new-1', owner: A2, needsEpoch: false },
      { agentId: 'e-new-2', owner: A1, needsEpoch: true },
    ]);
    expect(conflicts).toEqual([{ agentId: 'e-held-by-b', current: B1 }]);
    expect(epochs.map((e) => [e.agentId, e.owner])).toEqual([
      ['e-same', A1],
      ['e-new-2', A1],
    ]);
    const first = before[0]!.epoch;
    expect(epochs.map((e) => e.epoch)).toEqual([first + 1, first + 2]);
    expect(await registry.lookup('e-new-2')).toEqual(A1);
  });

  it('an epoch comes with a last-seen of now on the Redis clock, never moved backwards', async () => {
    const lastSeen = presenceKeys(keyPrefix).lastSeen;
    const redisNow = async () => {
      const [s, us] = await redis.time();
      return Number(s) * 1000 + Math.floor(Number(us) / 1000);
    };
    const t0 = await redisNow();
    await registry.claim('ls-claim', A1);
    const t1 = await redisNow();
    const claimed = Number(await redis.zscore(lastSeen, 'ls-claim'));
    expect(claimed).toBeGreaterThanOrEqual(t0);
    expect(claimed).toBeLessThanOrEqual(t1);
    // a last-seen ahead of the clock (written by a later touch) is kept
    await redis.zadd(lastSeen, t1 + 60_000, 'ls-claim');
    await registry.claim('ls-claim', A2);
    expect(Number(await redis.zscore(lastSeen, 'ls-claim'))).toBe(t1 + 60_000);

    await registry.reannounce([
      { agentId: 'ls-epoch', owner: A1, needsEpoch: true },
      { agentId: 'ls-plain', owner: A1 },
    ]);
    const t2 = await redisNow();
    const scores = await redis.zmscore(lastSeen, 'ls-epoch', 'ls-plain');
    expect(Number(scores[0])).toBeGreaterThanOrEqual(t1);
    expect(Number(scores[0])).toBeLessThanOrEqual(t2);
    expect(scores[1]).toBeNull(); // re-announce of a connection that has its epoch: the gateway's touch
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
    expect(results.filter((r) => r.previous === null)).toHaveLength(1);
  });

  it('reports foreign data in the owners hash as PresenceDataError', async () => {
    await redis.hset(presenceKeys(keyPrefix).owners, 'corrupt', 'not-json');
    await expect(registry.lookup('corrupt')).rejects.toThrow(PresenceDataError);
  });
});
