import { eventually, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presenceKeys } from './keys.js';
import {
  createPresenceWriter,
  type FailedSessionCheck,
  LATE_TOUCH_AGE_MS,
  type MonotonicClock,
  readLastSeen,
} from './presence-writer.js';
import { createPresenceRedis } from './redis-client.js';
import { createSessionStore } from './session-store.js';

let fx: RedisFixture;
let redis: Redis;
let plain: Redis;

beforeAll(async () => {
  fx = await redisFixture();
  redis = createPresenceRedis({ url: fx.url, redisOptions: { lazyConnect: true } });
  await redis.connect();
  plain = fx.client();
});

afterAll(async () => {
  redis.disconnect();
  await fx.stop();
});

/** A clock the test moves by hand. */
function manualClock(start = 1_000): MonotonicClock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

async function redisNowMs(): Promise<number> {
  const [s, us] = await plain.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

let n = 0;
const prefix = () => `${fx.prefix}w${++n}:`;

describe('PresenceWriter', () => {
  it('coalesces touches of one agent into one entry with the newest time', async () => {
    const keyPrefix = prefix();
    const clock = manualClock();
    const writer = createPresenceWriter({ redis, keyPrefix, clock });
    for (let i = 0; i < 1000; i++) {
      writer.touch('agent-1');
      clock.advance(1);
    }
    expect(writer.pending).toBe(1);
    const before = await redisNowMs();
    const result = await writer.flush();
    const after = await redisNowMs();
    expect(result).toEqual({ written: 1, failed: 0, chunks: 1 });
    expect(writer.pending).toBe(0);
    expect(await plain.zcard(presenceKeys(keyPrefix).lastSeen)).toBe(1);
    const score = (await readLastSeen(plain, ['agent-1'], keyPrefix)).get('agent-1')!;
    // the newest touch was 1 ms before the flush
    expect(score).toBeGreaterThanOrEqual(before - 1 - 5);
    expect(score).toBeLessThanOrEqual(after);
  });

  it('scores are Redis TIME minus the measured age, whatever the gateway clock says', async () => {
    const keyPrefix = prefix();
    // a "monotonic" clock that is 30 s ahead of real time and never synchronized with Redis
    const skewed: MonotonicClock = { now: () => Date.now() + 30_000 };
    const writer = createPresenceWriter({ redis, keyPrefix, clock: skewed });
    const before = await redisNowMs();
    writer.touch('skewed');
    await writer.flush();
    const after = await redisNowMs();
    const score = (await readLastSeen(plain, ['skewed'], keyPrefix)).get('skewed')!;
    expect(score).toBeGreaterThanOrEqual(before - 5);
    expect(score).toBeLessThanOrEqual(after);

    // an agent seen 5 s ago (on the gateway's clock) is scored 5 s before Redis now
    const clock = manualClock();
    const late = createPresenceWriter({ redis, keyPrefix, clock });
    late.touch('old');
    clock.advance(5_000);
    const t0 = await redisNowMs();
    await late.flush();
    const t1 = await redisNowMs();
    const old = (await readLastSeen(plain, ['old'], keyPrefix)).get('old')!;
    expect(old).toBeGreaterThanOrEqual(t0 - 5_000 - 5);
    expect(old).toBeLessThanOrEqual(t1 - 5_000);
  });

  it('touch with a time: scored that long before Redis now; a future time counts as now', async () => {
    const keyPrefix = prefix();
    const clock = manualClock(100_000);
    const writer = createPresenceWriter({ redis, keyPrefix, clock });
    writer.touch('seen-earlier', undefined, 100_000 - 8_000);
    writer.touch('future', undefined, 100_000 + 60_000);
    const t0 = await redisNowMs();
    await writer.flush();
    const t1 = await redisNowMs();
    const scores = await readLastSeen(plain, ['seen-earlier', 'future'], keyPrefix);
    expect(scores.get('seen-earlier')).toBeGreaterThanOrEqual(t0 - 8_000 - 5);
    expect(scores.get('seen-earlier')).toBeLessThanOrEqual(t1 - 8_000);
    expect(scores.get('future')).toBeGreaterThanOrEqual(t0 - 5);
    expect(scores.get('future')).toBeLessThanOrEqual(t1);
  });

  it('never moves a last-seen backwards (ZADD GT)', async () => {
    const keyPrefix = prefix();
    const fresh = createPresenceWriter({ redis, keyPrefix });
    fresh.touch('a');
    await fresh.flush();
    const first = (await readLastSeen(plain, ['a'], keyPrefix)).get('a')!;

    const clock = manualClock();
    const stale = createPresenceWriter({ redis, keyPrefix, clock });
    stale.touch('a'); // e.g. a retried write of an old observation
    clock.advance(60_000);
    await stale.flush();
    expect((await readLastSeen(plain, ['a', 'none'], keyPrefix)).get('a')).toBe(first);
    expect((await readLastSeen(plain, ['none'], keyPrefix)).get('none')).toBeNull();
    expect((await readLastSeen(plain, [], keyPrefix)).size).toBe(0);
  });

  it('writes many agents in chunks and reports the flush', async () => {
    const keyPrefix = prefix();
    const flushes: Array<[number, number]> = [];
    const writer = createPresenceWriter({
      redis,
      keyPrefix,
      chunkSize: 100,
      observer: { onFlush: (agents, seconds) => flushes.push([agents, seconds]) },
    });
    for (let i = 0; i < 1050; i++) writer.touch(`agent-${i}`);
    const result = await writer.flush();
    expect(result).toEqual({ written: 1050, failed: 0, chunks: 11 });
    expect(await plain.zcard(presenceKeys(keyPrefix).lastSeen)).toBe(1050);
    expect(flushes).toHaveLength(1);
    expect(flushes[0]![0]).toBe(1050);
    expect(flushes[0]![1]).toBeGreaterThanOrEqual(0);
    expect(await writer.flush()).toEqual({ written: 0, failed: 0, chunks: 0 });
  });

  it('scores a chunk of more agents than one ZADD takes (the script adds them 1,000 at a time)', async () => {
    const keyPrefix = prefix();
    const writer = createPresenceWriter({ redis, keyPrefix, chunkSize: 2000 });
    const ids = Array.from({ length: 1999 }, (_, i) => `agent-${i}`);
    for (const id of ids) writer.touch(id);
    expect(await writer.flush()).toEqual({ written: 1999, failed: 0, chunks: 1 });
    const seen = await readLastSeen(plain, ids, keyPrefix);
    expect([...seen.values()].filter((score) => score === null)).toEqual([]);
    expect(await plain.zcard(presenceKeys(keyPrefix).lastSeen)).toBe(1999);
  });

  it('lists touches written LATE_TOUCH_AGE_MS or more after they were seen in the late set too', async () => {
    const keyPrefix = prefix();
    const keys = presenceKeys(keyPrefix);
    const clock = manualClock();
    const writer = createPresenceWriter({ redis, keyPrefix, clock, chunkSize: 2000 });
    writer.touch('held-up');
    clock.advance(LATE_TOUCH_AGE_MS - 1);
    writer.touch('prompt');
    // 1,200 late ones: more than one ZADD of the late set
    const many = Array.from({ length: 1200 }, (_, i) => `late-${i}`);
    for (const id of many) writer.touch(id, undefined, clock.now() - LATE_TOUCH_AGE_MS);
    clock.advance(1);
    await writer.flush();
    const late = await plain.zrange(keys.lateSeen, '0', '-1', 'WITHSCORES');
    const lateScores = new Map<string, number>();
    for (let i = 0; i < late.length; i += 2) lateScores.set(late[i]!, Number(late[i + 1]));
    expect(lateScores.has('prompt')).toBe(false);
    expect(lateScores.size).toBe(1201);
    // the same scores as in the last-seen set
    const seen = await readLastSeen(plain, ['held-up', ...many], keyPrefix);
    for (const [id, score] of seen) expect(lateScores.get(id)).toBe(score);
    expect(await plain.zcard(keys.lastSeen)).toBe(1202);
  });

  it('moves the session seq forward only, and only in an existing session', async () => {
    const keyPrefix = prefix();
    const keys = presenceKeys(keyPrefix);
    const sessions = createSessionStore({ redis, keyPrefix, ttlMs: 60_000 });
    const writer = createPresenceWriter({ redis, keyPrefix, sessionTtlMs: 120_000 });

    writer.touch('unknown', 4);
    await writer.flush();
    expect(await plain.exists(keys.session('unknown'))).toBe(0); // no partial session hash

    await sessions.advance('known', { sequenceNum: 10, capabilities: 1, fields: {} });
    writer.touch('known', 11);
    await writer.flush();
    expect(await plain.hget(keys.session('known'), 'seq')).toBe('11');
    expect(await plain.pttl(keys.session('known'))).toBeGreaterThan(60_000); // refreshed to 120 s

    // refreshed at most once per eighth of the TTL (15 s here): the next heartbeats skip the PEXPIRE
    await plain.pexpire(keys.session('known'), 50_000);
    writer.touch('known', 11); // same seq: nothing written
    await writer.flush();
    expect(await plain.pttl(keys.session('known'))).toBeLessThanOrEqual(50_000);
    const refreshedAt = Number(await plain.hget(keys.session('known'), 'ttl_at'));
    await plain.hset(keys.session('known'), 'ttl_at', refreshedAt - 14_000);
    writer.touch('known', 12);
    await writer.flush();
    expect(await plain.hget(keys.session('known'), 'seq')).toBe('12');
    expect(await plain.pttl(keys.session('known'))).toBeLessThanOrEqual(50_000); // 14 s ago: not yet
    await plain.hset(keys.session('known'), 'ttl_at', refreshedAt - 16_000);
    writer.touch('known', 13);
    await writer.flush();
    expect(await plain.pttl(keys.session('known'))).toBeGreaterThan(60_000); // 16 s ago: refreshed
    expect(Number(await plain.hget(keys.session('known'), 'ttl_at'))).toBeGreaterThanOrEqual(refreshedAt);
    await plain.hset(keys.session('known'), 'seq', '11'); // the rest of this test starts from seq 11

    writer.touch('known', 9); // late, older heartbeat
    await writer.flush();
    expect(await plain.hget(keys.session('known'), 'seq')).toBe('11');

    writer.touch('known', 12);
    writer.touch('known'); // keeps seq 12
    await writer.flush();
    expect(await plain.hget(keys.session('known'), 'seq')).toBe('12');

    writer.touch('known', Number.NaN); // ignored, does not poison the chunk
    writer.touch('known', -1);
    expect((await writer.flush()).written).toBe(1);
    expect(await plain.hget(keys.session('known'), 'seq')).toBe('12');
  });

  it('writes a checked seq only over the expected one, and reports ended sessions and stale hashes', async () => {
    const keyPrefix = prefix();
    const keys = presenceKeys(keyPrefix);
    const sessions = createSessionStore({ redis, keyPrefix, ttlMs: 60_000 });
    const reported: FailedSessionCheck[] = [];
    const writer = createPresenceWriter({
      redis,
      keyPrefix,
      sessionTtlMs: 120_000,
      observer: { onSessionChecks: (failed) => reported.push(...failed) },
    });
    const http = (connectionId: string) => ({ transport: 'http' as const, connectionId });
    for (const id of ['ok', 'ended', 'moved']) {
      await sessions.advance(id, { sequenceNum: 4, capabilities: 1, fields: {}, via: http(`c-${id}`) });
    }
    await sessions.closeHttpSession('ended', 'c-ended'); // e.g. the sweeper timed it out
    await sessions.advance('moved', { sequenceNum: 5, capabilities: 1, fields: {}, via: http('c-moved') });

    writer.touch('ok', 5, undefined, 4);
    writer.touch('ok', 6, undefined, 5); // coalesced: checked against 4
    writer.touch('ended', 5, undefined, 4);
    writer.touch('moved', 5, undefined, 4); // another gateway stored seq 5 meanwhile
    writer.touch('lost', 5, undefined, 4); // no hash (expired, or lost with Redis data)
    writer.touch('unchecked', 2, undefined, -1); // an invalid expectation is no check at all
    expect(await writer.flush()).toEqual({ written: 5, failed: 0, chunks: 1 });

    expect(reported).toEqual([
      { agentId: 'ended', sequenceNum: 5, result: 'ended' },
      { agentId: 'moved', sequenceNum: 5, result: 'stale' },
      { agentId: 'lost', sequenceNum: 5, result: 'stale' },
    ]);
    expect(await plain.hget(keys.session('ok'), 'seq')).toBe('6');
    expect(await plain.pttl(keys.session('ok'))).toBeGreaterThan(60_000);
    expect(await plain.hget(keys.session('ended'), 'seq')).toBe('5');
    expect(await plain.hget(keys.session('ended'), 'http_conn')).toBeNull();
    expect(await plain.hget(keys.session('moved'), 'seq')).toBe('5');
    expect(await plain.exists(keys.session('lost'), keys.session('unchecked'))).toBe(0);
    const seen = await readLastSeen(plain, ['ok', 'ended', 'moved', 'lost', 'unchecked'], keyPrefix);
    for (const score of seen.values()) expect(score).not.toBeNull(); // last-seen whatever the check finds

    writer.touch('moved', 4, undefined, 5); // a stale, lower seq is not written even when its check passes
    await writer.flush();
    expect(await plain.hget(keys.session('moved'), 'seq')).toBe('5');
    expect(reported).toHaveLength(3);
  });

  it('runs at most one flush at a time; a flush requested meanwhile covers later touches', async () => {
    const keyPrefix = prefix();
    const writer = createPresenceWriter({ redis, keyPrefix });
    writer.touch('a');
    const first = writer.flush();
    writer.touch('b');
    const second = writer.flush();
    const third = writer.flush();
    expect(third).toBe(second);
    expect((await first).written).toBe(1);
    expect((await second).written).toBe(1);
    expect(await plain.zcard(presenceKeys(keyPrefix).lastSeen)).toBe(2);
  });

  it('flushes in the background after start() and once more on stop()', async () => {
    const keyPrefix = prefix();
    const writer = createPresenceWriter({ redis, keyPrefix, flushIntervalMs: 10 });
    writer.start();
    writer.start(); // idempotent
    writer.touch('bg');
    const key = presenceKeys(keyPrefix).lastSeen;
    await eventually(async () => expect(await plain.zscore(key, 'bg')).not.toBeNull());
    writer.touch('last');
    const stopped = writer.stop();
    expect(writer.stop()).toBe(stopped);
    await stopped;
    expect(await plain.zscore(key, 'last')).not.toBeNull();
    writer.start(); // no effect after stop
    writer.touch('after');
    await new Promise((r) => setTimeout(r, 50));
    expect(writer.pending).toBe(1);
  });

  it('a failing observer does not break the writer', async () => {
    const keyPrefix = prefix();
    const writer = createPresenceWriter({
      redis,
      keyPrefix,
      observer: {
        onFlush: () => {
          throw new Error('observer bug');
        },
      },
    });
    writer.touch('a');
    expect((await writer.flush()).written).toBe(1);
  });
});
