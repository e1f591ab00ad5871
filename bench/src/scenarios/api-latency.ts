import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { createDb, getAgentStatus, pageOfflineAgents, type TimeKey } from '@opamp-fleet/db';
import { freePorts } from '@opamp-fleet/testkit';
import { ratio } from '../metrics/stats.js';
import { collectEnvironment } from '../report/environment.js';
import { startAppProcesses } from '../targets/app-processes.js';
import { createBenchDatabase } from '../targets/bench-database.js';
import { openRedisNamespace } from '../targets/redis-namespace.js';
import { type InsideApi, insideApi, scrapeApiDurations } from './api-inside.js';
import {
  API_P99_TARGET_MS,
  API_REPORT_SCHEMA,
  type ApiLatencyReport,
  type EndpointComparison,
  type LevelComparison,
  type MeasuredRun,
  OPEN_LOOP_RATES,
  type OpenLoopRun,
  type RateComparison,
} from './api-latency-report.js';
import { seedFleet } from './api-latency-seed.js';
import { driveLoad, driveOpenLoop, httpClient, type LaneStep } from './api-load.js';
import { type CpuProbe, measureCpu } from './api-usage.js';
import type { Cleanup } from './cleanup.js';

const PAGE_SIZE = 100;
/** Offline pages read per walk (the first page and the next ones by next_cursor). */
const PAGES_PER_WALK = 4;
const OFFLINE_TIMEOUT_SECONDS = 3600;
const API_POOL_MAX = 10;
/** Concurrencies measured below the requested one. */
const LOWER_LEVELS = [1, 4, 16];
/** Most requests (or page walks) the open-loop generator keeps in flight. */
const OPEN_LOOP_MAX_IN_FLIGHT = 256;

/** 1, 4, 16 (those below `concurrency`) and `concurrency`, ascending. */
export function concurrencyLevels(concurrency: number): number[] {
  return [...new Set([...LOWER_LEVELS.filter((c) => c < concurrency), concurrency])].sort((a, b) => a - b);
}

export interface ApiLatencyOptions {
  agents: number;
  concurrency: number;
  durationSeconds: number;
}

export interface ApiLatencyContext {
  command: string;
  redisUrl: string;
  adminDatabaseUrl: string;
  cleanup: Cleanup;
  progress(line: string): void;
}

const pick = (ids: readonly string[]): string => ids[Math.floor(Math.random() * ids.length)] as string;

function compare(concurrency: number, api: MeasuredRun, raw: MeasuredRun): LevelComparison {
  return {
    concurrency,
    api,
    raw,
    p99OverRaw: ratio(api.latencyMs.p99, raw.latencyMs.p99),
    target: { limitMs: API_P99_TARGET_MS, met: api.errors === 0 && api.latencyMs.p99 < API_P99_TARGET_MS },
  };
}

/** The budget at one offered rate: p99 under the limit with every arrival sent and answered. */
export function compareRate(
  ratePerSecond: number,
  reference: boolean,
  api: OpenLoopRun & { insideApi: InsideApi },
  raw: OpenLoopRun,
): RateComparison {
  const met = api.errors === 0 && api.dropped === 0 && api.latencyMs.p99 < API_P99_TARGET_MS;
  return {
    ratePerSecond,
    reference,
    api,
    raw,
    p99OverRaw: ratio(api.latencyMs.p99, raw.latencyMs.p99),
    target: { limitMs: API_P99_TARGET_MS, met },
  };
}

/**
 * Seeds a fresh database and Redis prefix with `agents` agents and starts the built API. For each
 * endpoint and each concurrency of {@link concurrencyLevels}, loads the API, then the same
 * repository reads straight through postgres.js, each for an equal share of `durationSeconds`,
 * recording the CPU of the API, of the database's backends, of this generator and of the host.
 */
export async function runApiLatencyScenario(
  options: ApiLatencyOptions,
  context: ApiLatencyContext,
): Promise<ApiLatencyReport> {
  const started = new Date();
  const environment = await collectEnvironment(started);
  const { cleanup } = context;
  const database = cleanup.track(await createBenchDatabase(context.adminDatabaseUrl), (d) => d.drop());
  const ns = cleanup.track(await openRedisNamespace(context.redisUrl), (n) => n.close());
  const levels = concurrencyLevels(options.concurrency);
  // the raw side gets as many connections as the API side has requests in flight (up to 64)
  const rawPoolMax = Math.max(options.concurrency, 64);
  const handle = cleanup.track(createDb(database.url, { max: rawPoolMax }), (h) => h.close());
  context.progress(`api-latency: seeding ${options.agents} agents`);
  const seedStart = performance.now();
  const fleet = await seedFleet(handle.sql, ns.redis, ns.keyPrefix, options.agents);
  const seedSeconds = (performance.now() - seedStart) / 1000;
  const token = randomBytes(16).toString('hex');
  const [apiPort] = await freePorts(1);
  const api = cleanup.track(
    await startAppProcesses('api', [
      {
        API_HOST: '127.0.0.1',
        API_PORT: String(apiPort),
        API_AUTH_TOKENS: token,
        DATABASE_URL: database.url,
        DATABASE_POOL_MAX: String(API_POOL_MAX),
        REDIS_URL: context.redisUrl,
        REDIS_KEY_PREFIX: ns.keyPrefix,
        OFFLINE_TIMEOUT_SECONDS: String(OFFLINE_TIMEOUT_SECONDS),
      },
    ]),
    (a) => a.stop(),
  );
  const client = httpClient(`http://127.0.0.1:${apiPort}`, token, OPEN_LOOP_MAX_IN_FLIGHT);
  cleanup.push(() => client.close());
  const durationMs = (options.durationSeconds * 1000) / levels.length;
  const probe: CpuProbe = {
    apiPids: api.pids,
    postgresPids: async () =>
      (
        await handle.sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${database.name}`
      ).map((r) => r.pid),
  };
  const run = (name: string, concurrency: number, step: LaneStep) => {
    context.progress(`  ${name} for ${(durationMs / 1000).toFixed(1)} s at concurrency ${concurrency}`);
    return measureCpu(probe, () => driveLoad(concurrency, durationMs, step));
  };
  const runAt = (name: string, rate: number, unit: string, step: LaneStep) => {
    context.progress(`  ${name} for ${(durationMs / 1000).toFixed(1)} s at ${rate} ${unit} offered`);
    return measureCpu(probe, () => driveOpenLoop(rate, durationMs, step, OPEN_LOOP_MAX_IN_FLIGHT));
  };
  const metricsUrl = `http://127.0.0.1:${api.metricsPorts[0]}/metrics`;
  /** `runAt` on the API, with the API's own timing of the route's requests meanwhile. */
  const runApiAt = async (
    name: string,
    route: string,
    rate: number,
    unit: string,
    step: LaneStep,
  ): Promise<OpenLoopRun & { insideApi: InsideApi }> => {
    const before = await scrapeApiDurations(metricsUrl, route);
    const run = await runAt(name, rate, unit, step);
    const after = await scrapeApiDurations(metricsUrl, route);
    return { ...run, insideApi: insideApi(before, after, API_P99_TARGET_MS) };
  };

  const apiStatus: LaneStep = async (time) => {
    await time(() => client.get(`/api/v1/agents/${pick(fleet.ids)}/status`));
  };
  const apiOffline: LaneStep = async (time) => {
    let cursor: string | null = null;
    for (let page = 0; page < PAGES_PER_WALK; page++) {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const body = await time(() => client.get(`/api/v1/agents/offline?limit=${PAGE_SIZE}${query}`));
      cursor = (JSON.parse(body) as { next_cursor: string | null }).next_cursor;
      if (cursor === null) break;
    }
  };
  const rawStatus: LaneStep = async (time) => {
    await time(() => getAgentStatus(handle.db, pick(fleet.ids)));
  };
  const rawOffline: LaneStep = async (time) => {
    let after: TimeKey | null = null;
    const stale = {
      beforeMs: Date.now() - OFFLINE_TIMEOUT_SECONDS * 1000,
      timeoutMs: OFFLINE_TIMEOUT_SECONDS * 1000,
      reason: 'heartbeat_timeout',
      // what the API's read of the Redis last-seen set yields for this fleet: no expired entry
      candidates: { ids: [], seenMs: [] },
    };
    for (let page = 0; page < PAGES_PER_WALK; page++) {
      const rows = await time(() => pageOfflineAgents(handle.db, { limit: PAGE_SIZE + 1, after, stale }));
      if (rows.length <= PAGE_SIZE) break;
      after = rows[PAGE_SIZE - 1]?.key ?? null;
    }
  };
  // a short warm-up of every path (JIT, prepared statements, plans) at a concurrency that opens every
  // connection of its pool: an open-loop burst beyond the highest measured concurrency must not
  // wait for new Postgres backends in the middle of a measurement
  for (const [step, lanes] of [
    [apiStatus, Math.max(options.concurrency, API_POOL_MAX)],
    [apiOffline, Math.max(options.concurrency, API_POOL_MAX)],
    [rawStatus, rawPoolMax],
    [rawOffline, rawPoolMax],
  ] as const) {
    await driveLoad(lanes, 1000, step);
  }

  const endpoints: EndpointComparison[] = [];
  for (const [endpoint, route, apiStep, rawStep, open] of [
    [
      'GET /api/v1/agents/:id/status',
      '/api/v1/agents/:id/status',
      apiStatus,
      rawStatus,
      OPEN_LOOP_RATES.status,
    ],
    [
      `GET /api/v1/agents/offline?limit=${PAGE_SIZE} (+next_cursor)`,
      '/api/v1/agents/offline',
      apiOffline,
      rawOffline,
      OPEN_LOOP_RATES.offline,
    ],
  ] as const) {
    const measured: LevelComparison[] = [];
    for (const c of levels) {
      const apiRun = await run(`API ${endpoint}`, c, apiStep);
      const rawRun = await run(`raw ${endpoint}`, c, rawStep);
      measured.push(compare(c, apiRun, rawRun));
    }
    const rates: RateComparison[] = [];
    for (const rate of open.rates) {
      const apiRun = await runApiAt(`API ${endpoint}`, route, rate, open.unit, apiStep);
      const rawRun = await runAt(`raw ${endpoint}`, rate, open.unit, rawStep);
      rates.push(compareRate(rate, rate === open.reference, apiRun, rawRun));
    }
    endpoints.push({ endpoint, ...measured.at(-1)!, levels: measured, rateUnit: open.unit, rates });
  }
  const loadAverageAtEnd = os.loadavg()[0] ?? 0;
  return {
    schema: API_REPORT_SCHEMA,
    scenario: 'api-latency',
    startedAt: started.toISOString(),
    complete: endpoints.every((e) => e.levels.every((l) => l.api.requests > 0 && l.raw.requests > 0)),
    command: context.command,
    environment,
    loadAverageAtEnd,
    settings: {
      concurrency: options.concurrency,
      concurrencyLevels: levels.join(','),
      durationSeconds: options.durationSeconds,
      secondsPerLevel: Math.round(durationMs) / 1000,
      apiProcesses: api.pids.length,
      apiDatabasePoolMax: API_POOL_MAX,
      rawPoolMax,
      openLoopMaxInFlight: OPEN_LOOP_MAX_IN_FLIGHT,
      pageSize: PAGE_SIZE,
      pagesPerWalk: PAGES_PER_WALK,
      offlineTimeoutSeconds: OFFLINE_TIMEOUT_SECONDS,
      client: 'node:http keep-alive agent',
    },
    fleet: { agents: options.agents, online: fleet.online, offline: fleet.offline, seedSeconds },
    endpoints,
    servers: { database: database.name, redisKeyPrefix: ns.keyPrefix },
  };
}
