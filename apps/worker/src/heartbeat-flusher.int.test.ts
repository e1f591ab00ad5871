import { createDb, type DbHandle, flushLastSeen, migrate } from '@opamp-fleet/db';
import { presenceKeys, removeLateSeen } from '@opamp-fleet/presence';
import { type PostgresFixture, postgresFixture, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeartbeatFlusher, type HeartbeatFlusherOptions } from './heartbeat-flusher.js';

let redisFx: RedisFixture;
let pgFx: PostgresFixture;
let handle: DbHandle;
let redis: Redis;
let n = 0;

beforeAll(async () => {
  [redisFx, pgFx] = await Promise.all([redisFixture(), postgresFixture()]);
  await migrate(pgFx.url);
  handle = createDb(pgFx.url, { max: 4 });
  redis = redisFx.client();
});

afterAll(async () => {
  await handle.close();
  await Promise.all([redisFx.stop(), pgFx.stop()]);
});

/** A flusher on a fresh key prefix, whose writer records every call. */
function setup(options: Partial<HeartbeatFlusherOptions> = {}) {
  n += 1;
  const keyPrefix = `${redisFx.prefix}${n}:`;
  const agent = (i: number) => `hb${n}-${i}`;
  const writes: { ids: string[]; ms: number[] }[] = [];
  const flusher = new HeartbeatFlusher({
    redis,
    keyPrefix,
    chunkSize: 100,
    maxPerRun: 10_000,
    overlapMs: 1000,
    write: (ids, ms) => {
      writes.push({ ids, ms });
      return flushLastSeen(handle.db, ids, ms);
    },
    ...options,
  });
  const zset = presenceKeys(keyPrefix).lastSeen;
  const touch = (entries: [number, number][]) =>
    redis.zadd(zset, ...entries.flatMap(([i, score]) => [score, agent(i)]));
  const lastSeen = async (i: number) => {
    const rows = await handle.sql<{ ms: string | null }[]>`
      select (extract(epoch from last_seen_at) * 1000)::bigint::text as ms from agents where id = ${agent(i)}`;
    return rows[0]?.ms == null ? null : Number(rows[0].ms);
  };
  return {
    flusher,
    writes,
    touch,
    lastSeen,
    agent,
    lateKey: presenceKeys(keyPrefix).lateSeen,
    watermark: () => redis.get(flusher.watermarkKey),
  };
}

const T = 1_700_000_000_000;

describe('HeartbeatFlusher', () => {
  it('writes every entry once, moves the watermark, and a second run writes nothing', async () => {
    const s = setup();
    await s.touch(Array.from({ length: 250 }, (_, i): [number, number] => [i, T + i]));
    const first = await s.flusher.runOnce();
    expect(first).toMatchObject({
      read: 250,
      written: 250,
      rowsChanged: 250,
      complete: true,
      watermark: T + 249,
    });
    expect(await s.watermark()).toBe(String(T + 249));
    expect(await s.lastSeen(0)).toBe(T);
    expect(await s.lastSeen(249)).toBe(T + 249);
    expect(s.writes.map((w) => w.ids.length)).toEqual([100, 100, 50]);

    const second = await s.flusher.runOnce();
    expect(second).toMatchObject({ written: 0, rowsChanged: 0, lagMs: 0, delayMs: null, watermark: T + 249 });
  });

  it('picks up entries written late below the watermark, within the overlap window', async () => {
    const s = setup({ overlapMs: 1000 });
    await s.touch([
      [1, T + 5000],
      [2, T + 5000],
    ]);
    await s.flusher.runOnce();
    await s.touch([
      [3, T + 4200], // 800 ms late: caught
      [4, T + 3000], // 2 s late: outside the window, left for its next heartbeat
      [1, T + 6000], // moved forward
    ]);
    const run = await s.flusher.runOnce();
    expect(run.written).toBe(2);
    expect(run.read).toBe(3); // the unchanged agent 2 was re-read in the window but not written again
    expect(await s.lastSeen(3)).toBe(T + 4200);
    expect(await s.lastSeen(4)).toBeNull();
    expect(await s.lastSeen(1)).toBe(T + 6000);
    expect(run.watermark).toBe(T + 6000);
  });

  it('re-reads behind the start of the last run, however far that run carried the watermark', async () => {
    const redisNow = async () => {
      const [sec, us] = await redis.time();
      return Number(sec) * 1000 + Math.floor(Number(us) / 1000);
    };
    let during: (() => Promise<void>) | null = null;
    const s = setup({
      overlapMs: 1000,
      chunkSize: 1, // the run reads on while the writes go on: it reaches touches newer than its start
      write: async (ids, ms) => {
        const hook = during;
        during = null;
        await hook?.();
        return flushLastSeen(handle.db, ids, ms);
      },
    });
    const t0 = await redisNow();
    await s.touch([[1, t0 - 20]]);
    await s.flusher.runOnce();
    await s.touch([[2, (await redisNow()) - 5]]);
    let late = 0;
    during = async () => {
      // while the run writes agent 2: a touch 100 ms old (younger than the late set's threshold)
      // lands behind what the run has read; the run goes on for 1.6 s and reads a fresh touch
      late = (await redisNow()) - 100;
      await s.touch([[3, late]]);
      await new Promise((r) => setTimeout(r, 1600));
      await s.touch([[4, await redisNow()]]);
    };
    const long = await s.flusher.runOnce();
    expect(long.written).toBe(2); // agents 2 and 4, not 3
    expect(await s.lastSeen(3)).toBeNull();
    expect(long.watermark! - late).toBeGreaterThan(1000 + 500); // behind the watermark's own window
    expect(Number(await redis.get(s.flusher.anchorKey))).toBeLessThanOrEqual(late + 100);
    const next = await s.flusher.runOnce();
    expect(next.written).toBe(1);
    expect(await s.lastSeen(3)).toBe(late);
    expect((await s.flusher.runOnce()).written).toBe(0);
  });

  it('writes and empties the late set whatever the watermark, keeping a late score newer than the one read', async () => {
    const s = setup({ overlapMs: 1000, chunkSize: 2 });
    await s.touch([[1, T + 5000]]);
    await s.flusher.runOnce();
    // touches a held-up gateway wrote 2-4 s late: behind the window, listed in the late set too
    const late: [number, number][] = [
      [4, T + 3000],
      [5, T + 2000],
      [6, T + 1000],
    ];
    await s.touch(late);
    await redis.zadd(s.lateKey, ...late.flatMap(([i, score]) => [score, s.agent(i)]));
    const run = await s.flusher.runOnce();
    expect(run).toMatchObject({ late: 3, written: 3, rowsChanged: 3, watermark: T + 5000 });
    expect(await s.lastSeen(4)).toBe(T + 3000);
    expect(await s.lastSeen(6)).toBe(T + 1000);
    expect(await redis.zcard(s.lateKey)).toBe(0);
    expect((await s.flusher.runOnce()).late).toBe(0);

    // a late entry that moved on after the flush read it stays for the next run
    await redis.zadd(s.lateKey, T + 2500, s.agent(5));
    expect(await removeLateSeen(redis, s.lateKey, [{ member: s.agent(5), score: T + 2400 }])).toBe(0);
    expect(await redis.zscore(s.lateKey, s.agent(5))).toBe(String(T + 2500));
    expect(await removeLateSeen(redis, s.lateKey, [{ member: s.agent(5), score: T + 2500 }])).toBe(1);
  });

  it('writes a late entry that is also within the re-read window once', async () => {
    const s = setup({ overlapMs: 1000 });
    await s.touch([[1, T + 5000]]);
    await s.flusher.runOnce();
    await s.touch([[2, T + 4500]]); // 500 ms behind the watermark: in the window and in the late set
    await redis.zadd(s.lateKey, T + 4500, s.agent(2));
    const run = await s.flusher.runOnce();
    expect(run).toMatchObject({ late: 1, written: 1, rowsChanged: 1 });
    expect(s.writes.flatMap((w) => w.ids).filter((id) => id === s.agent(2))).toHaveLength(1);
    expect(await s.lastSeen(2)).toBe(T + 4500);
  });

  it('a fresh flusher (another process) writes the overlap again, which changes no row', async () => {
    const s = setup({ overlapMs: 1000 });
    await s.touch([[1, T + 100]]);
    await s.flusher.runOnce();
    const other = new HeartbeatFlusher({
      redis,
      keyPrefix: `${redisFx.prefix}${n}:`,
      chunkSize: 100,
      maxPerRun: 10_000,
      overlapMs: 1000,
      write: (ids, ms) => flushLastSeen(handle.db, ids, ms),
    });
    expect(await other.runOnce()).toMatchObject({ written: 1, rowsChanged: 0 });
  });

  it('never splits equal scores across chunks or runs', async () => {
    const s = setup({ chunkSize: 10, maxPerRun: 20 });
    await s.touch([
      ...Array.from({ length: 5 }, (_, i): [number, number] => [i, T]),
      ...Array.from({ length: 35 }, (_, i): [number, number] => [100 + i, T + 1]), // one score, 35 agents
      ...Array.from({ length: 5 }, (_, i): [number, number] => [200 + i, T + 2]),
    ]);
    const first = await s.flusher.runOnce();
    expect(first).toMatchObject({ complete: false, watermark: T + 1, written: 40 });
    expect(Math.max(...s.writes.map((w) => w.ids.length))).toBe(10);
    const second = await s.flusher.runOnce(); // the overlap re-read does not eat the budget
    expect(second).toMatchObject({ complete: true, watermark: T + 2, written: 5, read: 45 });
    for (const i of [0, 134, 204]) expect(await s.lastSeen(i)).not.toBeNull();
  });

  it('reports the lag of the oldest unflushed entry on the Redis clock, and leaves the watermark on failure', async () => {
    const [sec, usec] = await redis.time();
    const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    let fail = true;
    const s = setup({
      write: async (ids, ms) => {
        if (fail) throw new Error('postgres down');
        return flushLastSeen(handle.db, ids, ms);
      },
    });
    await s.touch([
      [1, now - 3000],
      [2, now - 1000],
    ]);
    await expect(s.flusher.runOnce()).rejects.toThrow('postgres down');
    expect(await s.watermark()).toBeNull();
    // while runs fail, the current lag keeps growing with the oldest unflushed entry
    const stuck = await s.flusher.currentLagMs();
    expect(stuck).toBeGreaterThanOrEqual(3000);
    await new Promise((r) => setTimeout(r, 200));
    expect(await s.flusher.currentLagMs()).toBeGreaterThanOrEqual(stuck + 150);
    fail = false;
    const run = await s.flusher.runOnce();
    expect(run.lagMs).toBeGreaterThanOrEqual(3000);
    expect(run.lagMs).toBeLessThan(10_000);
    expect(run.delayMs).toBeGreaterThanOrEqual(run.lagMs);
    expect(await s.lastSeen(1)).toBe(now - 3000);
    expect(await s.flusher.currentLagMs()).toBe(0);
  });
});
