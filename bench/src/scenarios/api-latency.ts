import { randomBytes } from 'node:crypto';
import { createDb, getAgent, pageOfflineAgents, type TimeKey } from '@opamp-fleet/db';
import { freePorts } from '@opamp-fleet/testkit';
import { ratio } from '../metrics/stats.js';
import { collectEnvironment } from '../report/environment.js';
import { startAppProcesses } from '../targets/app-processes.js';
import { createBenchDatabase } from '../targets/bench-database.js';
import { openRedisNamespace } from '../targets/redis-namespace.js';
import {
  API_P99_TARGET_MS,
  API_REPORT_SCHEMA,
  type ApiLatencyReport,
  type EndpointComparison,
} from './api-latency-report.js';
import { seedFleet } from './api-latency-seed.js';
import { driveLoad, type EndpointResult, jsonClient, type LaneStep } from './api-load.js';
import type { Cleanup } from './cleanup.js';

const PAGE_SIZE = 100;
/** Offline pages read per walk (the first page and the next ones by next_cursor). */
const PAGES_PER_WALK = 4;
const OFFLINE_TIMEOUT_SECONDS = 3600;

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

function compare(endpoint: string, api: EndpointResult, raw: EndpointResult): EndpointComparison {
  return {
    endpoint,
    api,
    raw,
    p99OverRaw: ratio(api.latencyMs.p99, raw.latencyMs.p99),
    target: { limitMs: API_P99_TARGET_MS, met: api.errors === 0 && api.latencyMs.p99 < API_P99_TARGET_MS },
  };
}

/**
 * Seeds a fresh database and Redis prefix with `agents` agents, starts the built API, and loads
 * each endpoint for `durationSeconds` with `concurrency` requests in flight; then the same
 * repository reads straight through postgres.js at the same concurrency.
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
  const handle = cleanup.track(createDb(database.url, { max: options.concurrency }), (h) => h.close());
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
        DATABASE_POOL_MAX: '10',
        REDIS_URL: context.redisUrl,
        REDIS_KEY_PREFIX: ns.keyPrefix,
        OFFLINE_TIMEOUT_SECONDS: String(OFFLINE_TIMEOUT_SECONDS),
      },
    ]),
    (a) => a.stop(),
  );
  const client = jsonClient(`http://127.0.0.1:${apiPort}`, token, options.concurrency);
  cleanup.push(async () => client.close());
  const durationMs = options.durationSeconds * 1000;
  const run = (name: string, step: LaneStep) => {
    context.progress(`  ${name} for ${options.durationSeconds} s at concurrency ${options.concurrency}`);
    return driveLoad(options.concurrency, durationMs, step);
  };

  // a short warm-up of both paths (JIT, pools, plans)
  await driveLoad(options.concurrency, 1000, (time) =>
    time(() => client.get(`/api/v1/agents/${pick(fleet.ids)}/status`)),
  );
  const apiStatus = await run('API status', async (time) => {
    await time(() => client.get(`/api/v1/agents/${pick(fleet.ids)}/status`));
  });
  const apiOffline = await run('API offline pages', async (time) => {
    let cursor: string | null = null;
    for (let page = 0; page < PAGES_PER_WALK; page++) {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const body = await time(() =>
        client.get<{ next_cursor: string | null }>(`/api/v1/agents/offline?limit=${PAGE_SIZE}${query}`),
      );
      cursor = body.next_cursor;
      if (cursor === null) break;
    }
  });
  const rawStatus = await run('raw status', async (time) => {
    await time(() => getAgent(handle.db, pick(fleet.ids)));
  });
  const rawOffline = await run('raw offline pages', async (time) => {
    let after: TimeKey | null = null;
    const stale = {
      beforeMs: Date.now() - OFFLINE_TIMEOUT_SECONDS * 1000,
      timeoutMs: OFFLINE_TIMEOUT_SECONDS * 1000,
      reason: 'heartbeat_timeout',
    };
    for (let page = 0; page < PAGES_PER_WALK; page++) {
      const rows = await time(() => pageOfflineAgents(handle.db, { limit: PAGE_SIZE + 1, after, stale }));
      if (rows.length <= PAGE_SIZE) break;
      after = rows[PAGE_SIZE - 1]?.key ?? null;
    }
  });
  const endpoints = [
    compare('GET /api/v1/agents/:id/status', apiStatus, rawStatus),
    compare(`GET /api/v1/agents/offline?limit=${PAGE_SIZE} (+next_cursor)`, apiOffline, rawOffline),
  ];
  return {
    schema: API_REPORT_SCHEMA,
    scenario: 'api-latency',
    startedAt: started.toISOString(),
    complete: endpoints.every((e) => e.api.requests > 0 && e.raw.requests > 0),
    command: context.command,
    environment,
    settings: {
      concurrency: options.concurrency,
      durationSeconds: options.durationSeconds,
      apiProcesses: api.pids.length,
      apiDatabasePoolMax: 10,
      rawPoolMax: options.concurrency,
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
