import { type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PresenceDataError, PresenceOptionError } from './errors.js';
import { presenceKeys } from './keys.js';
import { createPresenceRedis } from './redis-client.js';
import { createSessionStore, type SessionStore } from './session-store.js';

let fx: RedisFixture;
let redis: Redis;
let store: SessionStore;
let keyPrefix: string;

beforeAll(async () => {
  fx = await redisFixture();
  keyPrefix = fx.prefix;
  redis = createPresenceRedis({ url: fx.url, redisOptions: { lazyConnect: true } });
  await redis.connect();
  store = createSessionStore({ redis, keyPrefix, ttlMs: 3_600_000 });
});

afterAll(async () => {
  redis.disconnect();
  await fx.stop();
});

const allBytes = new Uint8Array(256).map((_, i) => i);

describe('SessionStore', () => {
  it('reports an unknown agent, then the previous seq on every advance', async () => {
    const noHttp = { httpSession: null, httpOpened: false, httpEnded: null };
    expect(await store.load('a1')).toBeNull();
    expect(await store.advance('a1', { sequenceNum: 0, capabilities: 0x7ff, fields: {} })).toEqual({
      known: false,
      prevSequenceNum: null,
      prevCapabilities: null,
      ...noHttp,
    });
    expect(await store.advance('a1', { sequenceNum: 1, capabilities: 0x7ff, fields: {} })).toEqual({
      known: true,
      prevSequenceNum: 0,
      prevCapabilities: 0x7ff,
      ...noHttp,
    });
    // an agent that restarted goes back to a low seq: advance is authoritative
    expect(await store.advance('a1', { sequenceNum: 0, capabilities: 1, fields: {} })).toEqual({
      known: true,
      prevSequenceNum: 1,
      prevCapabilities: 0x7ff,
      ...noHttp,
    });
  });

  it('round-trips binary fields byte for byte, and keeps fields not rewritten', async () => {
    const [s, us] = await redis.time();
    const redisNow = Number(s) * 1000 + Math.floor(Number(us) / 1000);
    const slice = new Uint8Array([9, 0xff, 0, 0xfe, 7]).subarray(1, 4); // a view with an offset
    await store.advance('bin', {
      sequenceNum: 5,
      capabilities: 2 ** 40 + 3,
      fields: { health: allBytes, 'effective config': slice, empty: new Uint8Array(0) },
    });
    await store.advance('bin', {
      sequenceNum: 6,
      capabilities: 3,
      fields: { desc: Buffer.from('é∑', 'utf8') },
    });
    const state = await store.load('bin');
    expect(state).not.toBeNull();
    expect(state!.sequenceNum).toBe(6);
    expect(state!.capabilities).toBe(3);
    expect(state!.updatedAt).toBeGreaterThanOrEqual(redisNow - 5);
    expect(Object.keys(state!.fields).sort()).toEqual(['desc', 'effective config', 'empty', 'health']);
    expect(Buffer.compare(state!.fields.health!, Buffer.from(allBytes))).toBe(0);
    expect([...state!.fields['effective config']!]).toEqual([0xff, 0, 0xfe]);
    expect(state!.fields.empty!.length).toBe(0);
    expect(state!.fields.desc!.toString('utf8')).toBe('é∑');
  });

  it('sets and refreshes a TTL on the hash; ttlMs 0 keeps it forever', async () => {
    const key = presenceKeys(keyPrefix).session('ttl');
    await store.advance('ttl', { sequenceNum: 1, capabilities: 1, fields: {} });
    await redis.pexpire(key, 1000);
    await store.advance('ttl', { sequenceNum: 2, capabilities: 1, fields: {} });
    expect(await redis.pttl(key)).toBeGreaterThan(3_000_000);

    const forever = createSessionStore({ redis, keyPrefix, ttlMs: 0 });
    await forever.advance('ttl', { sequenceNum: 3, capabilities: 1, fields: {} });
    expect(await redis.pttl(key)).toBe(-1);
    expect(createSessionStore({ redis, keyPrefix })).toBeDefined(); // default TTL (7 days)
  });

  it('rejects invalid numbers before writing', async () => {
    await expect(store.advance('bad', { sequenceNum: -1, capabilities: 0, fields: {} })).rejects.toThrow(
      /sequenceNum/,
    );
    await expect(store.advance('bad', { sequenceNum: 1, capabilities: 0.5, fields: {} })).rejects.toThrow(
      /capabilities/,
    );
    expect(await store.load('bad')).toBeNull();
  });

  it('reports a corrupt stored seq as PresenceDataError', async () => {
    await redis.hset(presenceKeys(keyPrefix).session('corrupt'), 'seq', 'x');
    await expect(store.load('corrupt')).rejects.toThrow(PresenceDataError);
  });

  it('opens an HTTP session once, keeps it across polls, and ends it on agent_disconnect', async () => {
    const http = (connectionId: string, disconnect = false) => ({
      transport: 'http' as const,
      connectionId,
      disconnect,
    });
    const first = await store.advance('h1', { sequenceNum: 1, capabilities: 1, fields: {}, via: http('c1') });
    expect(first.httpOpened).toBe(true);
    expect(first.httpEnded).toBeNull();
    expect(first.httpSession?.connectionId).toBe('c1');
    const epoch = first.httpSession!.epoch;
    expect(Number.isSafeInteger(epoch)).toBe(true);
    const poll = await store.advance('h1', { sequenceNum: 2, capabilities: 1, fields: {}, via: http('c2') });
    expect(poll).toMatchObject({
      httpOpened: false,
      httpEnded: null,
      httpSession: { connectionId: 'c1', epoch },
    });
    // a retried request (same seq) stays in the session
    expect(
      (await store.advance('h1', { sequenceNum: 2, capabilities: 1, fields: {}, via: http('c3') }))
        .httpOpened,
    ).toBe(false);
    expect((await store.load('h1'))?.httpSession).toEqual({ connectionId: 'c1', epoch });
    const bye = await store.advance('h1', {
      sequenceNum: 3,
      capabilities: 1,
      fields: {},
      via: http('c4', true),
    });
    expect(bye).toMatchObject({
      httpOpened: false,
      httpSession: null,
      httpEnded: { connectionId: 'c1', epoch },
    });
    expect((await store.load('h1'))?.httpSession).toBeNull();
    // a disconnect without a session opens none
    const again = await store.advance('h1', {
      sequenceNum: 4,
      capabilities: 1,
      fields: {},
      via: http('c5', true),
    });
    expect(again).toMatchObject({ httpOpened: false, httpSession: null, httpEnded: null });
    // the next poll opens a new session with a greater epoch
    const next = await store.advance('h1', { sequenceNum: 5, capabilities: 1, fields: {}, via: http('c6') });
    expect(next.httpOpened).toBe(true);
    expect(next.httpSession!.epoch).toBeGreaterThan(epoch);
  });

  it('a WebSocket ends the HTTP session; a restarted agent gets a new session', async () => {
    const via = { transport: 'http' as const, connectionId: 'w1' };
    const opened = await store.advance('h2', { sequenceNum: 7, capabilities: 1, fields: {}, via });
    const ws = await store.advance('h2', {
      sequenceNum: 8,
      capabilities: 1,
      fields: {},
      via: { transport: 'ws' },
    });
    expect(ws.httpEnded).toEqual(opened.httpSession);
    expect(ws.httpSession).toBeNull();
    expect(
      (await store.advance('h2', { sequenceNum: 9, capabilities: 1, fields: {}, via: { transport: 'ws' } }))
        .httpEnded,
    ).toBeNull();

    const s1 = await store.advance('h2', {
      sequenceNum: 10,
      capabilities: 1,
      fields: {},
      via: { ...via, connectionId: 'r1' },
    });
    expect(s1.httpOpened).toBe(true);
    const restarted = await store.advance('h2', {
      sequenceNum: 0,
      capabilities: 1,
      fields: {},
      via: { ...via, connectionId: 'r2' },
    });
    expect(restarted.httpEnded).toEqual(s1.httpSession);
    expect(restarted.httpOpened).toBe(true);
    expect(restarted.httpSession?.connectionId).toBe('r2');
    expect(restarted.httpSession!.epoch).toBeGreaterThan(s1.httpSession!.epoch);
    // advancing without `via` leaves the session alone
    const plain = await store.advance('h2', { sequenceNum: 1, capabilities: 1, fields: {} });
    expect(plain).toMatchObject({ httpSession: restarted.httpSession, httpOpened: false, httpEnded: null });
    expect((await store.load('h2'))?.httpSession).toEqual(restarted.httpSession);
    await expect(
      store.advance('h2', {
        sequenceNum: 2,
        capabilities: 1,
        fields: {},
        via: { transport: 'http', connectionId: '' },
      }),
    ).rejects.toThrow(/connectionId/);
  });

  it('an advance that opens a session writes the last-seen of the agent; others do not', async () => {
    const lastSeen = presenceKeys(keyPrefix).lastSeen;
    const via = { transport: 'http' as const, connectionId: 'ls1' };
    const [s0, us0] = await redis.time();
    await store.advance('ls', { sequenceNum: 1, capabilities: 1, fields: {}, via });
    const [s1, us1] = await redis.time();
    const opened = Number(await redis.zscore(lastSeen, 'ls'));
    expect(opened).toBeGreaterThanOrEqual(Number(s0) * 1000 + Math.floor(Number(us0) / 1000));
    expect(opened).toBeLessThanOrEqual(Number(s1) * 1000 + Math.floor(Number(us1) / 1000));
    await redis.zadd(lastSeen, 5, 'ls'); // the gateway's touch writes polls within a session
    await store.advance('ls', { sequenceNum: 2, capabilities: 1, fields: {}, via });
    expect(await redis.zscore(lastSeen, 'ls')).toBe('5');
    await store.advance('ls-ws', { sequenceNum: 1, capabilities: 1, fields: {}, via: { transport: 'ws' } });
    expect(await redis.zscore(lastSeen, 'ls-ws')).toBeNull();
  });

  it('closeHttpSession ends only the session it names (compare-and-delete)', async () => {
    const via = { transport: 'http' as const, connectionId: 'x1' };
    const { httpSession } = await store.advance('h3', {
      sequenceNum: 1,
      capabilities: 1,
      fields: { k: allBytes },
      via,
    });
    expect(await store.closeHttpSession('h3', 'other')).toBeNull();
    expect(await store.closeHttpSession('h3', 'x1')).toEqual(httpSession);
    expect(await store.closeHttpSession('h3', 'x1')).toBeNull();
    const state = await store.load('h3');
    expect(state?.httpSession).toBeNull();
    expect(state?.sequenceNum).toBe(1); // the rest of the state stays
    expect(state?.fields.k?.length).toBe(256);
    expect(await store.closeHttpSession('never-seen', 'x1')).toBeNull();
  });

  it('reopenHttpSession opens a session only over the expected seq and when none is open', async () => {
    const lastSeen = presenceKeys(keyPrefix).lastSeen;
    const via = { transport: 'http' as const, connectionId: 'r1' };
    const first = await store.advance('h4', { sequenceNum: 3, capabilities: 1, fields: {}, via });
    expect(await store.reopenHttpSession('h4', 'r2', 3)).toBeNull(); // r1 is still open
    await store.closeHttpSession('h4', 'r1');
    await redis.zadd(lastSeen, 1000, 'h4');
    expect(await store.reopenHttpSession('h4', 'r2', 2)).toBeNull(); // another seq: a newer message rules
    const reopened = await store.reopenHttpSession('h4', 'r2', 3);
    expect(reopened).toEqual({ connectionId: 'r2', epoch: expect.any(Number) });
    expect(reopened!.epoch).toBeGreaterThan(first.httpSession!.epoch);
    expect((await store.load('h4'))?.httpSession).toEqual(reopened);
    expect(Number(await redis.zscore(lastSeen, 'h4'))).toBeGreaterThan(1000); // seen now, as an open
    expect(await store.reopenHttpSession('h4', 'r3', 3)).toBeNull(); // once
    const next = await store.advance('h4', { sequenceNum: 4, capabilities: 1, fields: {}, via });
    expect(next).toMatchObject({ httpSession: reopened, httpOpened: false, httpEnded: null });
    expect(await store.reopenHttpSession('never-seen', 'r1', 0)).toBeNull(); // no partial hash
    expect(await redis.exists(presenceKeys(keyPrefix).session('never-seen'))).toBe(0);
    await expect(store.reopenHttpSession('h4', '', 4)).rejects.toThrow(PresenceOptionError);
    await expect(store.reopenHttpSession('h4', 'r4', -1)).rejects.toThrow(PresenceOptionError);
  });

  it('concurrent advances of one agent each see the previous seq exactly once', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.advance('conc', { sequenceNum: i + 1, capabilities: 1, fields: {} }),
      ),
    );
    const prevs = results.map((r) => r.prevSequenceNum);
    expect(prevs.filter((p) => p === null)).toHaveLength(1);
    expect(new Set(prevs).size).toBe(20);
  });
});
