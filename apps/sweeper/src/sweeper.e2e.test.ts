import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { applyConnectionEvents, createDb, type DbHandle, flushLastSeen, migrate } from '@opamp-fleet/db';
import { opened } from '@opamp-fleet/db/testing';
import { presenceKeys } from '@opamp-fleet/presence';
import {
  eventually,
  freePort,
  type PrivatePostgres,
  privatePostgres,
  type RedisFixture,
  type RunningProcess,
  redisFixture,
  startProcess,
} from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs the built process (`pnpm exec tsc -b apps/sweeper` first): two or three replicas against a
// private Postgres and a Redis key prefix of their own.
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const LEASE_TTL_MS = 1500;
const INTERVAL_MS = 100;

let pg: PrivatePostgres;
let fx: RedisFixture;
let redis: Redis;
let h: DbHandle;
const procs: RunningProcess[] = [];

beforeAll(async () => {
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`pnpm exec tsc -b apps/sweeper\` first`);
  [pg, fx] = await Promise.all([privatePostgres(), redisFixture()]);
  await migrate(pg.url);
  h = createDb(pg.url, { max: 2 });
  redis = fx.client();
}, 60_000);
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await h?.close();
  await fx?.stop();
  await pg?.stop();
});

interface Replica {
  proc: RunningProcess;
  port: number;
}

async function startReplica(id: string): Promise<Replica> {
  const port = await freePort();
  const proc = await startProcess({
    name: `sweeper ${id}`,
    command: process.execPath,
    args: [main],
    env: {
      DATABASE_URL: pg.url,
      REDIS_URL: fx.url,
      REDIS_KEY_PREFIX: fx.prefix,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(port),
      SWEEPER_ID: id,
      OFFLINE_TIMEOUT_SECONDS: '2',
      SWEEP_INTERVAL_MS: String(INTERVAL_MS),
      SWEEP_TICK_BUDGET_MS: '500',
      LEASE_TTL_MS: String(LEASE_TTL_MS),
      REDIS_LOSS_GRACE_SECONDS: '2',
      LOG_LEVEL: 'warn',
    },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
  procs.push(proc);
  return { proc, port };
}

async function metric(r: Replica, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${r.port}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

async function leaderOf(replicas: readonly Replica[]): Promise<Replica> {
  return eventually(
    async () => {
      const flags = await Promise.all(replicas.map((r) => metric(r, 'opamp_sweeper_is_leader')));
      const leaders = replicas.filter((_, i) => flags[i] === 1);
      expect(leaders).toHaveLength(1);
      return leaders[0]!;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}

async function redisNow(): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** `n` agents online in Postgres whose last-seen makes them expire one by one over `spreadMs`. */
async function expiringAgents(tag: string, n: number, spreadMs: number): Promise<string[]> {
  const agents = Array.from({ length: n }, (_, i) => `${tag}-${i}`);
  const now = await redisNow();
  await applyConnectionEvents(
    h.db,
    agents.map((id) => opened(`${id}/c1`, 1, { agentId: id, at: now - 60_000 })),
  );
  const scores = agents.map((_, i) => now - 2000 + Math.round(((i + 1) * spreadMs) / n));
  await flushLastSeen(h.db, agents, scores);
  await redis.zadd(presenceKeys(fx.prefix).lastSeen, ...agents.flatMap((id, i) => [scores[i]!, id]));
  return agents;
}

async function offlineTransitions(tag: string): Promise<Map<string, number>> {
  const rows = await h.sql<{ agent_id: string; n: number }[]>`
    select agent_id, count(*)::int as n from agent_status_transitions
    where to_status = 'offline' and agent_id like ${`${tag}-%`} group by agent_id`;
  return new Map(rows.map((r) => [r.agent_id, r.n]));
}

describe('sweeper replicas (real processes)', () => {
  let survivor: Replica;
  let third: Replica;

  it('kill -9 of the leader: another replica acts within a lease period; no agent transitions twice', async () => {
    const replicas = [await startReplica('a'), await startReplica('b')];
    const leader = await leaderOf(replicas);
    survivor = replicas.find((r) => r !== leader)!;
    const agents = await expiringAgents('k', 200, 4000);
    await eventually(async () => expect((await offlineTransitions('k')).size).toBeGreaterThan(0));

    leader.proc.signal('SIGKILL');
    const killedAt = performance.now();
    await leader.proc.exited;
    await eventually(async () => expect(await metric(survivor, 'opamp_sweeper_is_leader')).toBe(1), {
      timeoutMs: 3 * LEASE_TTL_MS,
      intervalMs: 20,
    });
    const takeoverMs = performance.now() - killedAt;
    console.info(`takeover after kill -9: ${Math.round(takeoverMs)} ms (lease ${LEASE_TTL_MS} ms)`);
    expect(takeoverMs).toBeLessThan(LEASE_TTL_MS + 4 * INTERVAL_MS + 500);

    await eventually(async () => expect((await offlineTransitions('k')).size).toBe(agents.length), {
      timeoutMs: 10_000,
    });
    const counts = await offlineTransitions('k');
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);

  it('SIGSTOP of the leader past its lease, then SIGCONT: the stale leader commits nothing', async () => {
    const follower = await startReplica('c');
    third = follower;
    expect(await leaderOf([survivor, follower])).toBe(survivor);
    const stale = survivor;
    const agents = await expiringAgents('s', 200, 3000);
    await eventually(async () => expect((await offlineTransitions('s')).size).toBeGreaterThan(0));

    stale.proc.signal('SIGSTOP');
    const stoppedAtMs = await redisNow();
    await eventually(async () => expect(await metric(follower, 'opamp_sweeper_is_leader')).toBe(1), {
      timeoutMs: 3 * LEASE_TTL_MS,
      intervalMs: 20,
    });
    // every transition the stale leader decided (at <= stoppedAtMs) must have committed before this
    const [lease] = await h.sql<{ xid: string }[]>`select xmin::text as xid from sweeper_lease`;
    stale.proc.signal('SIGCONT');
    await eventually(async () => expect((await offlineTransitions('s')).size).toBe(agents.length), {
      timeoutMs: 10_000,
    });
    await new Promise((r) => setTimeout(r, 5 * INTERVAL_MS)); // the resumed process runs a few ticks

    const lateCommits = await h.sql<{ n: number }[]>`
      select count(*)::int as n from agent_status_transitions
      where agent_id like 's-%' and at <= to_timestamp(${stoppedAtMs}::float8 / 1000)
        and xmin::text::bigint > ${lease!.xid}::bigint`;
    expect(lateCommits[0]?.n).toBe(0);
    const counts = await offlineTransitions('s');
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(stale.proc.hasExited()).toBe(false);
    expect(await metric(stale, 'opamp_sweeper_is_leader')).toBe(0);
    expect(await metric(follower, 'opamp_sweeper_is_leader')).toBe(1);
    console.info(
      `fenced writes of the resumed leader: ${await metric(stale, 'opamp_sweeper_fenced_writes_total')}`,
    );
  }, 60_000);

  it('SIGTERM releases the lease: the other replica takes over at once; the process exits 0', async () => {
    const alive = procs.filter((p) => !p.hasExited()).length;
    expect(alive).toBe(2);
    const pair = [survivor, third];
    const leader = await leaderOf(pair);
    const other = pair.find((r) => r !== leader)!;
    const stoppedAt = performance.now();
    const code = await leader.proc.stop('SIGTERM');
    expect(code).toBe(0);
    await eventually(async () => expect(await metric(other, 'opamp_sweeper_is_leader')).toBe(1), {
      timeoutMs: 3 * LEASE_TTL_MS,
      intervalMs: 20,
    });
    const takeoverMs = performance.now() - stoppedAt;
    console.info(`takeover after SIGTERM: ${Math.round(takeoverMs)} ms`);
    expect(takeoverMs).toBeLessThan(LEASE_TTL_MS);
  }, 60_000);
});
