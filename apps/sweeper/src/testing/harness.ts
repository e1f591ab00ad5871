import { applyConnectionEvents, createDb, type DbHandle, flushLastSeen, migrate } from '@opamp-fleet/db';
import { opened, truncateTables } from '@opamp-fleet/db/testing';
import { presenceKeys } from '@opamp-fleet/presence';
import { createLogger, createMetricsRegistry, type Registry } from '@opamp-fleet/telemetry';
import {
  deleteByPrefix,
  type PostgresFixture,
  postgresFixture,
  type RedisFixture,
  redisFixture,
} from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { createSweeper, type Sweeper, type SweeperDeps, type SweeperOptions } from '../sweeper.js';

/** A migrated database of its own and a Redis key prefix of its own, for one test file. */
export interface Harness {
  readonly h: DbHandle;
  readonly redis: Redis;
  readonly prefix: string;
  readonly lastSeenKey: string;
  stop(): Promise<void>;
}

export async function startHarness(redisUrl?: string): Promise<Harness> {
  const pg: PostgresFixture = await postgresFixture();
  await migrate(pg.url);
  const h = createDb(pg.url, { max: 4 });
  let fx: RedisFixture | null = null;
  let redis: Redis;
  let prefix: string;
  if (redisUrl === undefined) {
    fx = await redisFixture();
    redis = fx.client({ maxRetriesPerRequest: 0 });
    prefix = fx.prefix;
  } else {
    const { Redis: Client } = await import('ioredis');
    redis = new Client(redisUrl, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      commandTimeout: 2000,
    });
    redis.on('error', () => {});
    prefix = 'sweeper-test:';
  }
  return {
    h,
    redis,
    prefix,
    lastSeenKey: presenceKeys(prefix).lastSeen,
    async stop() {
      if (fx === null) redis.disconnect();
      await h.close();
      await fx?.stop();
      await pg.stop();
    },
  };
}

/** The fleet's "now" before expiry in the tests (ms, Redis clock). */
export const T = Date.UTC(2026, 2, 1, 12);
/** When the tests' agents connected: an hour before T. */
export const OPENED = T - 3_600_000;
/** One ms past the deadline (default 60 s timeout) of an agent last seen at T. */
export const EXPIRED = T + 60_001;

/** Empties the harness before a test: every table, the lease and sweeper state, the Redis keys. */
export async function resetHarness(hx: Harness): Promise<void> {
  await truncateTables(hx.h.db);
  await hx.h.sql`truncate sweeper_lease, sweeper_state`;
  await deleteByPrefix(hx.redis, hx.prefix);
}

export function testOptions(prefix: string, overrides: Partial<SweeperOptions> = {}): SweeperOptions {
  return {
    sweeperId: 'test',
    redisKeyPrefix: prefix,
    offlineTimeoutSeconds: 60,
    errorAfterSeconds: 600,
    sweepIntervalMs: 50,
    sweepBatchSize: 100,
    sweepTickBudgetMs: 2000,
    leaseTtlMs: 5000,
    redisLossGraceSeconds: 60,
    ...overrides,
  };
}

export interface TestSweeper {
  sweeper: Sweeper;
  registry: Registry;
}

export function testSweeper(
  harness: Harness,
  overrides: Partial<SweeperOptions> = {},
  deps: Partial<SweeperDeps> = {},
): TestSweeper {
  const registry = createMetricsRegistry({ service: 'sweeper', defaultMetrics: false });
  const sweeper = createSweeper(testOptions(harness.prefix, overrides), {
    redis: harness.redis,
    db: harness.h.db,
    registry,
    logger: createLogger({ name: 'sweeper-test', level: 'silent' }),
    ...deps,
  });
  return { sweeper, registry };
}

/** Brings `ids` online in Postgres on connection `<id>/c<epoch>` opened at `atMs`, last seen at `seenMs`. */
export async function seedOnline(
  h: DbHandle,
  ids: readonly string[],
  atMs: number,
  seenMs: number,
  epoch = 1,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 2000) {
    const chunk = ids.slice(i, i + 2000);
    await applyConnectionEvents(
      h.db,
      chunk.map((id) => opened(`${id}/c${epoch}`, epoch, { agentId: id, at: atMs })),
    );
    await flushLastSeen(
      h.db,
      chunk,
      chunk.map(() => seenMs),
    );
  }
}

/** ZADD of `ids` at `scoreMs` (what a gateway's touch writes). */
export async function touch(
  redis: Redis,
  key: string,
  ids: readonly string[],
  scoreMs: number,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 5000) {
    const args: (string | number)[] = [];
    for (const id of ids.slice(i, i + 5000)) args.push(scoreMs, id);
    await redis.zadd(key, ...args);
  }
}

/** Status of each agent. */
export async function statuses(h: DbHandle): Promise<Map<string, string>> {
  const rows = await h.sql<{ id: string; status: string }[]>`select id, status from agents order by id`;
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** Number of transitions to `to` per agent that has any. */
export async function transitionCounts(h: DbHandle, to: string): Promise<Map<string, number>> {
  const rows = await h.sql<{ agent_id: string; n: number }[]>`
    select agent_id, count(*)::int as n from agent_status_transitions where to_status = ${to} group by agent_id`;
  return new Map(rows.map((r) => [r.agent_id, r.n]));
}

/** The value of a metric (summed over its labels) in `registry`. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = await registry.getSingleMetric(name)?.get();
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return metric.values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

export function ids(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
}
