import { applyConnectionEvents, getAgent, listHistory, listTransitions } from '@opamp-fleet/db';
import { closed, opened } from '@opamp-fleet/db/testing';
import { createPostgresLease } from '@opamp-fleet/leader';
import { eventually } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StaleConnectionCloser } from './connection-closer.js';
import { createLastSeenStore, type LastSeenStore } from './last-seen-store.js';
import { RECONCILE_INTERVAL_MS } from './sweeper.js';
import {
  EXPIRED,
  type Harness,
  metricValue,
  OPENED,
  resetHarness,
  seedOnline,
  startHarness,
  statuses,
  T,
  testSweeper,
  touch,
  transitionCounts,
} from './testing/harness.js';

let hx: Harness;

beforeAll(async () => {
  hx = await startHarness();
});
afterAll(async () => {
  await hx?.stop();
});
beforeEach(() => resetHarness(hx));

/** A store whose re-check (phase 2) first runs `between`. */
function withHookBeforeRecheck(store: LastSeenStore, between: () => Promise<void>): LastSeenStore {
  return {
    ...store,
    async scores(ids) {
      await between();
      return store.scores(ids);
    },
  };
}

describe('sweeper expiry (runOnce with an injected clock)', () => {
  it('takes a silent agent offline once: one transition, one history row closed, entry removed', async () => {
    await seedOnline(hx.h, ['silent', 'alive'], OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, ['silent'], T);
    await touch(hx.redis, hx.lastSeenKey, ['alive'], T + 30_000);
    const { sweeper, registry } = testSweeper(hx);

    expect(await sweeper.runOnce(T + 59_999)).toMatchObject({ leader: true, offline: 0 }); // not yet due
    const r = await sweeper.runOnce(EXPIRED);
    expect(r).toEqual({
      leader: true,
      offlineHeld: false,
      offline: 1,
      errored: 0,
      fenced: false,
      complete: true,
    });

    expect(await getAgent(hx.h.db, 'silent')).toMatchObject({
      status: 'offline',
      statusReason: 'heartbeat_timeout',
    });
    expect((await getAgent(hx.h.db, 'alive'))?.status).toBe('online');
    const history = await listHistory(hx.h.db, 'silent');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      disconnectedAt: new Date(EXPIRED),
      disconnectReason: 'heartbeat_timeout',
    });
    const transitions = await listTransitions(hx.h.db, 'silent');
    expect(transitions.map((t) => `${t.toStatus}:${t.reason}:${t.decidedBy}`)).toEqual([
      'offline:heartbeat_timeout:sweeper',
      'online:connected:gateway',
    ]);
    expect(await hx.redis.zscore(hx.lastSeenKey, 'silent')).toBeNull();
    expect(await hx.redis.zscore(hx.lastSeenKey, 'alive')).not.toBeNull();

    expect(await sweeper.runOnce(EXPIRED + 1000)).toMatchObject({ offline: 0 });
    expect(await transitionCounts(hx.h, 'offline')).toEqual(new Map([['silent', 1]]));
    expect(
      await metricValue(registry, 'opamp_sweeper_transitions_total', { reason: 'heartbeat_timeout' }),
    ).toBe(1);
    expect(await metricValue(registry, 'opamp_sweeper_is_leader')).toBe(1);
    expect(await metricValue(registry, 'opamp_sweeper_detection_lag_seconds')).toBeGreaterThan(0);
  });

  it('a heartbeat between the first read and the re-check prevents the transition', async () => {
    await seedOnline(hx.h, ['a'], OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, ['a'], T);
    const store = withHookBeforeRecheck(createLastSeenStore(hx.redis, hx.prefix), () =>
      touch(hx.redis, hx.lastSeenKey, ['a'], EXPIRED - 10),
    );
    const { sweeper, registry } = testSweeper(hx, {}, { store });
    expect(await sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 0, complete: true });
    expect((await getAgent(hx.h.db, 'a'))?.status).toBe('online');
    expect(Number(await hx.redis.zscore(hx.lastSeenKey, 'a'))).toBe(EXPIRED - 10); // heartbeat kept
    expect(await metricValue(registry, 'opamp_sweeper_expiry_checks_total', { outcome: 'refreshed' })).toBe(
      1,
    );
  });

  it('a reconnect recorded between the reads prevents the transition (connection epoch compare)', async () => {
    await seedOnline(hx.h, ['a'], OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, ['a'], T);
    const store = withHookBeforeRecheck(createLastSeenStore(hx.redis, hx.prefix), async () => {
      await applyConnectionEvents(hx.h.db, [opened('a/c2', 2, { agentId: 'a', at: EXPIRED - 5 })]);
    });
    const { sweeper } = testSweeper(hx, {}, { store });
    expect(await sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 0 });
    expect(await getAgent(hx.h.db, 'a')).toMatchObject({ status: 'online', currentConnectionId: 'a/c2' });
    // its first touch had not reached Redis yet: the reconciliation does not take it for lost either
    expect(await sweeper.runOnce(EXPIRED + 1000)).toMatchObject({ offline: 0 });
    expect((await getAgent(hx.h.db, 'a'))?.status).toBe('online');
  });

  it('removes the stale entry of an agent that is already offline, without a transition', async () => {
    await seedOnline(hx.h, ['gone'], OPENED, T);
    await applyConnectionEvents(hx.h.db, [closed('gone/c1', 1, { agentId: 'gone', at: T + 1 })]);
    await touch(hx.redis, hx.lastSeenKey, ['gone', 'no-row'], T);
    const { sweeper } = testSweeper(hx);
    expect(await sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 0 });
    expect(await hx.redis.zcard(hx.lastSeenKey)).toBe(0);
    expect(await transitionCounts(hx.h, 'offline')).toEqual(new Map([['gone', 1]])); // the gateway's only
  });

  it('reconciles an online agent missing from presence and stale in Postgres; leaves one with an entry', async () => {
    await seedOnline(hx.h, ['absent', 'present'], OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, ['present'], EXPIRED); // fresh in Redis, stale in Postgres
    const { sweeper } = testSweeper(hx);
    expect(await sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 1 });
    expect(await statuses(hx.h)).toEqual(
      new Map([
        ['absent', 'offline'],
        ['present', 'online'],
      ]),
    );
    expect((await listTransitions(hx.h.db, 'absent'))[0]?.eventId).toBe(`timeout:absent:1:${T}`);
  });

  it('reconciles at most every RECONCILE_INTERVAL_MS (a scan of Postgres), at once while batches are full', async () => {
    await seedOnline(hx.h, ['r1', 'r2', 'r3'], OPENED, T);
    const { sweeper } = testSweeper(hx, { sweepBatchSize: 2 });
    expect(await sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 2 }); // a full batch
    expect(await sweeper.runOnce(EXPIRED + 1)).toMatchObject({ offline: 1 }); // so again at once
    await seedOnline(hx.h, ['r4'], OPENED, T);
    expect(await sweeper.runOnce(EXPIRED + 2)).toMatchObject({ offline: 0 }); // not due yet
    expect(await sweeper.runOnce(EXPIRED + 1 + RECONCILE_INTERVAL_MS - 1)).toMatchObject({ offline: 0 });
    expect(await sweeper.runOnce(EXPIRED + 1 + RECONCILE_INTERVAL_MS)).toMatchObject({ offline: 1 });
    expect(await statuses(hx.h)).toEqual(
      new Map([
        ['r1', 'offline'],
        ['r2', 'offline'],
        ['r3', 'offline'],
        ['r4', 'offline'],
      ]),
    );
  });

  it('moves agents offline for ERROR_AFTER_SECONDS to error', async () => {
    await seedOnline(hx.h, ['a', 'b'], OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, ['a'], T);
    await touch(hx.redis, hx.lastSeenKey, ['b'], T + 100_000);
    const { sweeper, registry } = testSweeper(hx);
    await sweeper.runOnce(EXPIRED); // a offline
    expect(await sweeper.runOnce(EXPIRED + 599_000)).toMatchObject({ errored: 0 });
    expect(await sweeper.runOnce(EXPIRED + 600_000)).toMatchObject({ errored: 1 });
    expect(await getAgent(hx.h.db, 'a')).toMatchObject({ status: 'error', statusReason: 'offline_too_long' });
    expect(
      await metricValue(registry, 'opamp_sweeper_transitions_total', { reason: 'offline_too_long' }),
    ).toBe(1);
  });

  it('works in batches within the tick budget and carries the rest to the next tick', async () => {
    const agents = ['a1', 'a2', 'a3', 'a4', 'a5'];
    await seedOnline(hx.h, agents, OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, agents, T);
    let t = 0;
    const monotonic = { now: () => (t += 10) }; // every reading advances 10 ms
    const { sweeper } = testSweeper(hx, { sweepBatchSize: 2, sweepTickBudgetMs: 10 }, { monotonic });
    const first = await sweeper.runOnce(EXPIRED);
    expect(first.complete).toBe(false);
    expect(first.offline).toBeLessThan(5);
    for (let i = 0; i < 5 && (await transitionCounts(hx.h, 'offline')).size < 5; i++) {
      await sweeper.runOnce(EXPIRED);
    }
    expect([...(await transitionCounts(hx.h, 'offline')).values()]).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('sweeper expiry in several batches', () => {
  it('reads each batch while the previous one is written; every agent goes offline once', async () => {
    const agents = ['b1', 'b2', 'b3', 'b4', 'b5'];
    await seedOnline(hx.h, agents, OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, agents, T);
    const calls: string[] = [];
    const real = createLastSeenStore(hx.redis, hx.prefix);
    const store: LastSeenStore = {
      ...real,
      findExpired(cutoff, limit, skip) {
        calls.push(`find:${skip ?? 0}`);
        return real.findExpired(cutoff, limit, skip);
      },
      removeIfUnchanged(entries) {
        calls.push(`remove:${entries.length}`);
        return real.removeIfUnchanged(entries);
      },
    };
    const { sweeper, registry } = testSweeper(hx, { sweepBatchSize: 2 }, { store });
    expect(await sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 5, complete: true });
    // the next batch is read past the current one before the current one's entries are removed
    expect(calls).toEqual(['find:0', 'find:2', 'remove:2', 'find:2', 'remove:2', 'remove:1']);
    expect([...(await transitionCounts(hx.h, 'offline')).values()]).toEqual([1, 1, 1, 1, 1]);
    expect(await hx.redis.zcard(hx.lastSeenKey)).toBe(0);
    expect(
      await metricValue(registry, 'opamp_sweeper_transitions_total', { reason: 'heartbeat_timeout' }),
    ).toBe(5);
  });

  it('an agent read in two batches (the set shifted) is taken offline once', async () => {
    const agents = ['s1', 's2', 's3'];
    await seedOnline(hx.h, agents, OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, agents, T);
    const real = createLastSeenStore(hx.redis, hx.prefix);
    // as if entries had moved in front of the ones read: every read starts at the lowest score
    const store: LastSeenStore = { ...real, findExpired: (cutoff, limit) => real.findExpired(cutoff, limit) };
    const { sweeper, registry } = testSweeper(hx, { sweepBatchSize: 2 }, { store });
    expect(await sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 3, complete: true, fenced: false });
    expect([...(await transitionCounts(hx.h, 'offline')).values()]).toEqual([1, 1, 1]);
    expect(await statuses(hx.h)).toEqual(new Map(agents.map((a) => [a, 'offline'])));
    expect(await hx.redis.zcard(hx.lastSeenKey)).toBe(0);
    expect(
      await metricValue(registry, 'opamp_sweeper_transitions_total', { reason: 'heartbeat_timeout' }),
    ).toBe(3);
  });

  it('a failed read-ahead ends the tick after the batch in flight committed; the next tick goes on', async () => {
    const agents = ['f1', 'f2'];
    await seedOnline(hx.h, agents, OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, agents, T);
    const real = createLastSeenStore(hx.redis, hx.prefix);
    let failing = true;
    const store: LastSeenStore = {
      ...real,
      async findExpired(cutoff, limit, skip) {
        if (failing && (skip ?? 0) > 0) throw new Error('redis went away');
        return real.findExpired(cutoff, limit, skip);
      },
    };
    const { sweeper, registry } = testSweeper(hx, { sweepBatchSize: 1 }, { store });
    expect(await sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 1, complete: false, fenced: false });
    expect(await metricValue(registry, 'opamp_sweeper_tick_errors_total', { stage: 'expiry' })).toBe(1);
    failing = false;
    expect(await sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 1, complete: true });
    expect([...(await transitionCounts(hx.h, 'offline')).values()]).toEqual([1, 1]);
  });

  it('ends the connections once the transitions are committed; a failing closer does not fail the tick', async () => {
    await seedOnline(hx.h, ['c1', 'c2'], OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, ['c1', 'c2'], T);
    const ended: string[][] = [];
    const closer: StaleConnectionCloser = {
      async close(connections) {
        // the agents are offline in Postgres before their connections are ended
        expect(await statuses(hx.h)).toEqual(
          new Map([
            ['c1', 'offline'],
            ['c2', 'offline'],
          ]),
        );
        ended.push(connections.map((c) => c.agentId));
        throw new Error('closer broke its contract');
      },
    };
    const { sweeper, registry } = testSweeper(hx, { sweepBatchSize: 1 }, { closer });
    expect(await sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 2, complete: true, fenced: false });
    expect(ended).toEqual([['c1', 'c2']]); // once per tick, after every batch
    expect(await metricValue(registry, 'opamp_sweeper_close_commands_total', { result: 'failed' })).toBe(2);
    expect(await metricValue(registry, 'opamp_sweeper_tick_errors_total')).toBe(0);
  });
});

describe('sweeper loop closes', () => {
  it('ends plain-HTTP sessions after the tick that took them offline, WebSockets once it caught up', async () => {
    const now = Date.now();
    await seedOnline(hx.h, ['w1', 'w2'], OPENED, T);
    await applyConnectionEvents(hx.h.db, [
      opened('h1/c1', 1, { agentId: 'h1', at: OPENED, transport: 'http' }),
    ]);
    await touch(hx.redis, hx.lastSeenKey, ['w1', 'w2', 'h1'], now - 61_000); // scores on the Redis clock
    const calls: Array<Array<[string, string | null]>> = [];
    const closer: StaleConnectionCloser = {
      async close(connections) {
        calls.push(connections.map((c) => [c.agentId, c.transport]));
        return { sent: 0, sessionsEnded: 0, skipped: connections.length, orphaned: 0, failed: 0 };
      },
    };
    const { sweeper } = testSweeper(hx, { sweeperId: 'closes', leaseTtlMs: 60_000 }, { closer });
    sweeper.start();
    try {
      await eventually(() => expect(calls).toHaveLength(2));
    } finally {
      await sweeper.stop();
    }
    expect(calls).toEqual([
      [['h1', 'http']],
      [
        ['w1', 'ws'],
        ['w2', 'ws'],
      ],
    ]);
  });
});

describe('sweeper leadership and fencing', () => {
  it('only the leader acts; a follower takes over once the lease expires', async () => {
    await seedOnline(hx.h, ['a'], OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, ['a'], T);
    const one = testSweeper(hx, { sweeperId: 'one', leaseTtlMs: 300 });
    const two = testSweeper(hx, { sweeperId: 'two', leaseTtlMs: 300 });
    expect((await one.sweeper.runOnce(T)).leader).toBe(true);
    expect((await two.sweeper.runOnce(EXPIRED)).leader).toBe(false);
    expect((await getAgent(hx.h.db, 'a'))?.status).toBe('online');
    expect(await metricValue(two.registry, 'opamp_sweeper_is_leader')).toBe(0);
    await eventually(async () => expect((await two.sweeper.runOnce(EXPIRED)).leader).toBe(true), {
      timeoutMs: 3000,
    });
    expect((await getAgent(hx.h.db, 'a'))?.status).toBe('offline');
    expect((await one.sweeper.runOnce(EXPIRED)).leader).toBe(false);
    expect(await metricValue(one.registry, 'opamp_sweeper_leadership_changes_total', { event: 'lost' })).toBe(
      1,
    );
  });

  it('a replica that loses the lease during its tick writes nothing and counts a fenced write', async () => {
    await seedOnline(hx.h, ['a'], OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, ['a'], T);
    const successor = createPostgresLease({
      db: hx.h.db,
      name: `sweeper:${hx.prefix}`,
      holder: 'b',
      ttlMs: 60_000,
    });
    const store = withHookBeforeRecheck(createLastSeenStore(hx.redis, hx.prefix), async () => {
      // the stale replica is paused here past its lease, and the successor takes over
      await eventually(async () => expect(await successor.tryAcquire()).toBe(true), { timeoutMs: 3000 });
    });
    const stale = testSweeper(hx, { leaseTtlMs: 200 }, { store });
    const r = await stale.sweeper.runOnce(EXPIRED);
    expect(r).toMatchObject({ leader: true, fenced: true, offline: 0, complete: false });
    expect((await getAgent(hx.h.db, 'a'))?.status).toBe('online');
    expect(await hx.redis.zscore(hx.lastSeenKey, 'a')).not.toBeNull();
    expect(await metricValue(stale.registry, 'opamp_sweeper_fenced_writes_total')).toBe(1);
    expect(stale.sweeper.isLeader).toBe(false);
  });

  it('start() sweeps on its own; stop() releases the lease so another replica acts at once', async () => {
    await seedOnline(hx.h, ['a', 'b'], OPENED, T);
    const now = Date.now();
    await touch(hx.redis, hx.lastSeenKey, ['a'], now - 61_000); // scores on the Redis clock
    const one = testSweeper(hx, { sweeperId: 'one', leaseTtlMs: 60_000 });
    one.sweeper.start();
    one.sweeper.start();
    await eventually(async () => expect((await getAgent(hx.h.db, 'a'))?.status).toBe('offline'));
    expect(one.sweeper.isLeader).toBe(true);
    expect(one.sweeper.healthy).toBe(true);
    await one.sweeper.stop();
    await one.sweeper.stop();
    expect(one.sweeper.isLeader).toBe(false);
    const two = testSweeper(hx, { sweeperId: 'two', leaseTtlMs: 60_000 });
    expect((await two.sweeper.runOnce()).leader).toBe(true);
  });
});
