import { truncateTables } from '@opamp-fleet/db/testing';
import { deleteByPrefix, eventually, type PrivateRedis, privateRedis } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Harness,
  ids,
  metricValue,
  seedOnline,
  startHarness,
  statuses,
  testSweeper,
  touch,
  transitionCounts,
} from './testing/harness.js';

let redisServer: PrivateRedis;
let hx: Harness;

beforeAll(async () => {
  redisServer = await privateRedis();
  hx = await startHarness(redisServer.url);
});
afterAll(async () => {
  await hx?.stop();
  await redisServer?.stop();
});
beforeEach(async () => {
  await truncateTables(hx.h.db);
  await hx.h.sql`truncate sweeper_lease, sweeper_state`;
  await eventually(async () => expect(await hx.redis.ping()).toBe('PONG'), { timeoutMs: 10_000 });
  await deleteByPrefix(hx.redis, hx.prefix);
});

const T = Date.UTC(2026, 2, 1, 12);
const S = 1000;
const live = ids('live', 20); // held by a gateway that re-announces them
const dead = ids('dead', 5); // held by a gateway that died 50 s before the loss

/**
 * The fleet before the loss: live agents heartbeat (fresh in Redis) but the heartbeat flush to
 * Postgres lags (last_seen_at 70 s old there); the dead gateway's agents were last seen at T - 50 s.
 */
async function seedFleet(): Promise<void> {
  await seedOnline(hx.h, live, T - 3_600_000, T - 70 * S);
  await seedOnline(hx.h, dead, T - 3_600_000, T - 50 * S);
  await touch(hx.redis, hx.lastSeenKey, live, T - 5 * S);
  await touch(hx.redis, hx.lastSeenKey, dead, T - 50 * S);
}

/** Ticks every second from `from` to `to` (s after T); live agents are re-announced at +2 s and heartbeat every 30 s. */
async function tickThrough(
  sweeper: { runOnce(now: number): Promise<{ offline: number }> },
  from: number,
  to: number,
): Promise<number> {
  let offline = 0;
  for (let s = from; s <= to; s++) {
    if (s === 2 || (s > 2 && s % 30 === 0)) await touch(hx.redis, hx.lastSeenKey, live, T + s * S);
    offline += (await sweeper.runOnce(T + s * S)).offline;
  }
  return offline;
}

describe('Redis data loss', () => {
  it('FLUSHALL: zero offline transitions during the grace window, then only agents nobody re-announced', async () => {
    await seedFleet();
    const { sweeper, registry } = testSweeper(hx, { redisLossGraceSeconds: 60 });
    expect((await sweeper.runOnce(T)).offline).toBe(0);
    await hx.redis.flushall(); // a private server: the shared one is never flushed

    const duringGrace = await tickThrough(sweeper, 1, 60);
    expect(duringGrace).toBe(0);
    expect(await transitionCounts(hx.h, 'offline')).toEqual(new Map());
    expect(
      await metricValue(registry, 'opamp_sweeper_offline_holds_total', { reason: 'redis_data_lost' }),
    ).toBe(1);
    expect(await metricValue(registry, 'opamp_sweeper_offline_held')).toBe(1);

    expect(await tickThrough(sweeper, 61, 62)).toBe(dead.length);
    const status = await statuses(hx.h);
    expect(live.every((id) => status.get(id) === 'online')).toBe(true);
    expect(dead.every((id) => status.get(id) === 'offline')).toBe(true);
    expect(await metricValue(registry, 'opamp_sweeper_offline_held')).toBe(0);
  });

  it('without a grace window the same FLUSHALL takes live agents offline (why the window exists)', async () => {
    await seedFleet();
    const { sweeper } = testSweeper(hx, { redisLossGraceSeconds: 0 });
    await sweeper.runOnce(T);
    await hx.redis.flushall();
    await tickThrough(sweeper, 1, 1); // before the gateways re-announce
    const status = await statuses(hx.h);
    expect(live.filter((id) => status.get(id) === 'offline').length).toBe(live.length);
  });

  it('a restart without persistence (and the outage before it) holds offline transitions too', async () => {
    await seedFleet();
    const { sweeper, registry } = testSweeper(hx, { redisLossGraceSeconds: 60 });
    await sweeper.runOnce(T);
    await redisServer.kill9();
    expect(await sweeper.runOnce(T + S)).toMatchObject({ offlineHeld: true, offline: 0 });
    await redisServer.restart();
    await eventually(async () => expect(await hx.redis.ping()).toBe('PONG'), { timeoutMs: 10_000 });
    expect(await tickThrough(sweeper, 2, 61)).toBe(0);
    expect(await metricValue(registry, 'opamp_sweeper_offline_holds_total')).toBeGreaterThanOrEqual(1);
    expect(await tickThrough(sweeper, 62, 63)).toBe(dead.length);
  });

  it('a new leader holds when Redis changed since the previous leader stored its baseline', async () => {
    await seedFleet();
    const first = testSweeper(hx, { sweeperId: 'first', leaseTtlMs: 500 });
    await first.sweeper.runOnce(T);
    await first.sweeper.stop(); // releases the lease; the baseline stays in Postgres
    await hx.redis.flushall(); // while no sweeper watches
    const second = testSweeper(hx, { sweeperId: 'second', redisLossGraceSeconds: 60 });
    expect(await second.sweeper.runOnce(T + S)).toMatchObject({
      leader: true,
      offlineHeld: true,
      offline: 0,
    });
    expect(
      await metricValue(second.registry, 'opamp_sweeper_offline_holds_total', {
        reason: 'redis_changed_unwatched',
      }),
    ).toBe(1);
    expect(await tickThrough(second.sweeper, 2, 60)).toBe(0);
    expect(await tickThrough(second.sweeper, 61, 62)).toBe(dead.length);
  });
});
