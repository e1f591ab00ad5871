import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDb, flushLastSeen } from '@opamp-fleet/db';
import type { Redis } from 'ioredis';
import type postgres from 'postgres';
import { cpuDelta, localProcessesNamed, parseRedisProcessId, readCpuOf } from '../metrics/cpu-groups.js';
import { type HostCpuReading, hostCpuUsage, readHostCpu } from '../metrics/host-cpu.js';
import { type Freshness, judgeFreshness, type LastHeartbeats } from '../persistence/freshness.js';
import {
  backendPids,
  listAgentIds,
  RAW_UPDATE_STATEMENT,
  rawUpdateLastSeen,
  readLastSeen,
} from '../persistence/postgres-probe.js';
import { runUpdateBaseline } from '../persistence/update-baseline.js';
import { scrapeWorkers, totals } from '../persistence/worker-metrics.js';
import type { SteadyCpu } from '../report/heartbeat-build.js';
import type { HeartbeatThroughputReport } from '../report/heartbeat-types.js';

const POLL_MS = 500;

/** What the warm-up waited for, and whether it happened before its time ran out. */
export interface WarmupOutcome {
  /** connection_opened events written by the workers when the warm-up ended. */
  written: number;
  drained: boolean;
  /** The flush lag read from Redis when the warm-up ended (null: not readable). */
  lagSeconds: number | null;
  caughtUp: boolean;
}

/**
 * Waits until the workers have written `expected` connection_opened events (the connect phase's
 * backlog) and then until the flush lag is below `maxLagSeconds` (the flush has caught up with the
 * connect phase's last-seen entries), or until `timeoutMs` passed.
 */
export async function waitForBacklog(
  metricsUrls: readonly string[],
  expected: number,
  readLagSeconds: () => Promise<number | null>,
  maxLagSeconds: number,
  timeoutMs: number,
): Promise<WarmupOutcome> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const written = totals(await scrapeWorkers(metricsUrls)).connectionOpened;
    const lagSeconds = await readLagSeconds().catch(() => null);
    const drained = written >= expected;
    const caughtUp = lagSeconds !== null && lagSeconds < maxLagSeconds;
    if ((drained && caughtUp) || performance.now() >= deadline) {
      return { written, drained, lagSeconds, caughtUp };
    }
    await sleep(POLL_MS);
  }
}

/** The server processes whose CPU the bench reads around the steady phase. */
export interface ServerPids {
  gateways: readonly number[];
  workers: readonly number[];
  /** Empty when Redis is not a local process. */
  redis: readonly number[];
  /** The bench database's backends, read at each reading (pools may open connections late). */
  postgres: () => Promise<number[]>;
}

export async function findRedisPids(redis: Redis): Promise<number[]> {
  const pid = parseRedisProcessId(await redis.info('server'));
  return pid === null ? [] : localProcessesNamed([pid], 'redis');
}

export async function findPostgresPids(sql: postgres.Sql, database: string): Promise<number[]> {
  return localProcessesNamed(await backendPids(sql, database), 'postgres');
}

type ServerGroup = 'gateways' | 'workers' | 'redis' | 'postgres';
type CpuReading = Record<ServerGroup, Map<number, number>> & { host: HostCpuReading };

export async function readServerCpu(pids: ServerPids): Promise<CpuReading> {
  const [gateways, workers, redis, postgres, host] = await Promise.all([
    readCpuOf(pids.gateways),
    readCpuOf(pids.workers),
    readCpuOf(pids.redis),
    pids.postgres().then(readCpuOf),
    readHostCpu(),
  ]);
  return { gateways, workers, redis, postgres, host };
}

/** CPU per server group, and of the whole host, between two readings over `seconds` of wall time. */
export function serverCpu(before: CpuReading, after: CpuReading, seconds: number): SteadyCpu {
  const group = (key: ServerGroup) => {
    const delta = cpuDelta(before[key], after[key]);
    if (delta === null) return null;
    return { ...delta, cpuPercent: seconds > 0 ? (delta.cpuSeconds / seconds) * 100 : 0 };
  };
  return {
    gateways: group('gateways'),
    workers: group('workers'),
    redis: group('redis'),
    postgres: group('postgres'),
    host: hostCpuUsage(before.host, after.host, seconds),
  };
}

/**
 * Polls agents.last_seen_at until every agent with a heartbeat is fresh or `timeoutMs` passed;
 * `waitedSeconds` counts from `since` (epoch ms, the end of the steady phase).
 */
export async function waitForFreshness(
  sql: postgres.Sql,
  agents: number,
  heartbeats: LastHeartbeats,
  toleranceMs: number,
  since: number,
  timeoutMs: number,
): Promise<Omit<Freshness, 'stale'> & { waitedSeconds: number; stale: LastHeartbeats }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const result = judgeFreshness(agents, heartbeats, await readLastSeen(sql, heartbeats.ids), toleranceMs);
    const waitedSeconds = Math.max(0, (Date.now() - since) / 1000);
    if (result.fresh === result.withHeartbeat || performance.now() >= deadline) {
      return { ...result, waitedSeconds };
    }
    await sleep(POLL_MS);
  }
}

/**
 * The raw baselines on the bench database's agents table, one statement at a time on one
 * connection (as the single flush runs): the raw UPDATE ... FROM unnest, then the flush's own
 * statement (flushLastSeen) called directly.
 */
export async function runBaselines(
  sql: postgres.Sql,
  databaseUrl: string,
  seconds: number,
  chunkSize: number,
): Promise<HeartbeatThroughputReport['baseline']> {
  const ids = await listAgentIds(sql);
  const common = { ids, chunkSize, durationMs: seconds * 1000, now: () => performance.now() };
  const rawUpdate = await runUpdateBaseline(RAW_UPDATE_STATEMENT, (i, t) => rawUpdateLastSeen(sql, i, t), {
    ...common,
    startEpochMs: Date.now() + 60_000,
  });
  const handle = createDb(databaseUrl, { max: 1, applicationName: 'opamp-bench-baseline' });
  try {
    const flushStatement = await runUpdateBaseline(
      'flushLastSeen: insert ... select from unnest ... on conflict (id) do update ... where last_seen_at < excluded',
      (i, t) => flushLastSeen(handle.db, i, t),
      // later than every time the raw baseline wrote, so each row moves forward again
      { ...common, startEpochMs: Date.now() + 3_600_000 * 24 },
    );
    return { tableRows: ids.length, chunkSize, rawUpdate, flushStatement };
  } finally {
    await handle.close();
  }
}
