/**
 * The `http-vs-peer` scenario (`httpVsPeerCli`): N plain-HTTP agents polling in a closed loop
 * against our gateway's HTTP transport (with its Redis presence and BullMQ -> worker -> Postgres
 * event path), then the same load against `@elastic/mockopampserver` (an independent in-memory Node
 * OpAMP server) in a child process. Polls/s, latency, errors and server CPU per poll, ours / peer.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, startProcesses } from '@opamp-fleet/testkit';
import postgres from 'postgres';
import { oneOf, positiveInteger, positiveNumber } from '../arg-values.js';
import { parseScenarioArgs, SHARED_USAGE } from '../args-scenario.js';
import { startProgress } from '../load/progress.js';
import { cpuDelta, readCpuOf } from '../metrics/cpu-groups.js';
import { startTimeline } from '../metrics/timeline.js';
import { collectEnvironment } from '../report/environment.js';
import { createBenchDatabase } from '../targets/bench-database.js';
import { startGateways } from '../targets/gateway-target.js';
import { openRedisNamespace } from '../targets/redis-namespace.js';
import { startWorkers } from '../targets/worker-target.js';
import { Cleanup } from './cleanup.js';
import { OPAMP_PATH, SERVER_LIMITS } from './connect.js';
import { findPostgresPids, findRedisPids } from './heartbeat-steps.js';
import { startHttpLoad } from './http-vs-peer-load.js';
import {
  buildHttpRun,
  formatHttpMarkdown,
  type GroupCpu,
  HTTP_REPORT_SCHEMA,
  type HttpReport,
  type HttpRun,
  httpCharts,
  httpRatios,
  isHttpRunComplete,
  type RawHttpRun,
} from './http-vs-peer-report.js';
import type { ScenarioCli, ScenarioContext } from './registry.js';

const PEER_ENTRY = fileURLToPath(new URL('./http-vs-peer-peer.js', import.meta.url));
const PEER_PACKAGE = '@elastic/mockopampserver';
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 15_000;
const READY_TIMEOUT_MS = 30_000;

export interface HttpVsPeerOptions {
  agents: number;
  generators: number;
  gateways: number;
  workers: number;
  /** Agents start spread over this many seconds. */
  rampSeconds: number;
  warmupSeconds: number;
  durationSeconds: number;
  only: 'gateway' | 'peer' | null;
}

const OPTIONS = {
  agents: { type: 'string' },
  generators: { type: 'string' },
  gateways: { type: 'string' },
  workers: { type: 'string' },
  ramp: { type: 'string' },
  warmup: { type: 'string' },
  duration: { type: 'string' },
  only: { type: 'string' },
} as const;

const USAGE = `  --agents N                  HTTP agents, each with one poll in flight (default 2000)
  --generators P              load-generator child processes (default 2)
  --gateways G                gateway processes sharing one port (default 1)
  --workers W                 worker processes (default 1)
  --ramp S                    agents start spread over S seconds (default 2)
  --warmup S                  seconds of polling after every agent was answered, before the window (default 3)
  --duration S                seconds of the measured window (default 15)
  --only gateway|peer         run only one of the two servers
${SHARED_USAGE}`;

/** One server under the same load: a window of `durationSeconds` after every agent's first answer and the warm-up. */
async function measure(
  target: HttpRun['target'],
  url: string,
  options: HttpVsPeerOptions,
  context: ScenarioContext,
  readCpu: () => Promise<{
    server: Map<number, number>;
    backend: Record<'workers' | 'redis' | 'postgres', Map<number, number>> | null;
  }>,
  settings: Record<string, string | number>,
): Promise<HttpRun> {
  const load = startHttpLoad(url, options.agents, options.generators, options.rampSeconds * 1000);
  context.cleanup.push(async () => load.kill());
  const stopProgress = startProgress(target, load.counters, context.progress);
  const timeline = startTimeline(load.counters);
  try {
    const ready = await Promise.race([
      load.ready.then(() => true),
      sleep(READY_TIMEOUT_MS).then(() => false),
    ]);
    if (!ready)
      context.progress(
        `${target}: not every agent answered within ${READY_TIMEOUT_MS / 1000} s; measuring anyway`,
      );
    await sleep(options.warmupSeconds * 1000);
    const before = await readCpu();
    load.mark();
    const started = performance.now();
    await sleep(options.durationSeconds * 1000);
    const result = load.stop();
    const windowSeconds = (performance.now() - started) / 1000;
    const after = await readCpu();
    const group = (b: Map<number, number>, a: Map<number, number>): GroupCpu | null => cpuDelta(b, a);
    const raw: RawHttpRun = {
      target,
      settings,
      agents: options.agents,
      windowSeconds,
      load: await result,
      server: group(before.server, after.server),
      backend:
        before.backend && after.backend
          ? {
              workers: group(before.backend.workers, after.backend.workers),
              redis: group(before.backend.redis, after.backend.redis),
              postgres: group(before.backend.postgres, after.backend.postgres),
            }
          : null,
      timeline: timeline.stop(),
    };
    return buildHttpRun(raw);
  } finally {
    timeline.stop();
    stopProgress();
    load.kill();
  }
}

/** A cleanup of one server's phase, also run by the run's cleanup (on a signal). */
function phaseCleanup(context: ScenarioContext): Cleanup {
  const cleanup = new Cleanup();
  context.cleanup.push(() => cleanup.run());
  return cleanup;
}

async function measureOurs(options: HttpVsPeerOptions, context: ScenarioContext): Promise<HttpRun> {
  const cleanup = phaseCleanup(context);
  try {
    return await measureOursWith(cleanup, options, context);
  } finally {
    await cleanup.run();
  }
}

async function measureOursWith(
  cleanup: Cleanup,
  options: HttpVsPeerOptions,
  context: ScenarioContext,
): Promise<HttpRun> {
  const ns = await openRedisNamespace(context.redisUrl);
  cleanup.push(() => ns.close());
  const database = await createBenchDatabase(context.adminDatabaseUrl);
  cleanup.push(() => database.drop());
  const probe = postgres(database.url, { max: 1, onnotice: () => {} });
  cleanup.push(() => probe.end({ timeout: 5 }));
  const workers = cleanup.track(
    await startWorkers({
      processes: options.workers,
      redisUrl: context.redisUrl,
      keyPrefix: ns.keyPrefix,
      databaseUrl: database.url,
    }),
    (w) => w.stop(),
  );
  const gateways = cleanup.track(
    await startGateways({
      processes: options.gateways,
      redisUrl: context.redisUrl,
      path: OPAMP_PATH,
      maxMessageBytes: SERVER_LIMITS.maxMessageBytes,
      idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
      keyPrefix: ns.keyPrefix,
    }),
    (g) => g.stop(),
  );
  context.progress(
    `servers up: ${options.gateways} gateway(s), ${options.workers} worker(s), database ${database.name}, Redis prefix ${ns.keyPrefix}`,
  );
  const redisPids = await findRedisPids(ns.redis);
  const readCpu = async () => {
    const [server, workerCpu, redis, pg] = await Promise.all([
      readCpuOf(gateways.pids),
      readCpuOf(workers.pids),
      readCpuOf(redisPids),
      findPostgresPids(probe, database.name).then(readCpuOf),
    ]);
    return { server, backend: { workers: workerCpu, redis, postgres: pg } };
  };
  return measure('gateway', gateways.url.replace(/^ws/, 'http'), options, context, readCpu, {
    ...gateways.settings,
    database: database.name,
    workers: options.workers,
  });
}

async function measurePeer(options: HttpVsPeerOptions, context: ScenarioContext): Promise<HttpRun> {
  const port = await freePort();
  const [peer] = await startProcesses([
    {
      name: 'mockopampserver',
      command: process.execPath,
      args: [PEER_ENTRY, '--port', String(port)],
      ready: (p) => p.output().includes('"event":"listening"'),
      readyTimeoutMs: START_TIMEOUT_MS,
    },
  ]);
  const server = phaseCleanup(context).track(peer!, (p) => p.stop('SIGTERM', STOP_GRACE_MS));
  try {
    return await measure(
      'peer',
      `http://127.0.0.1:${port}${OPAMP_PATH}`,
      options,
      context,
      async () => ({ server: await readCpuOf([server.pid]), backend: null }),
      { processes: 1, package: `${PEER_PACKAGE}@${peerVersion()}`, logLevel: 'warn' },
    );
  } finally {
    await server.stop('SIGTERM', STOP_GRACE_MS);
  }
}

function peerVersion(): string {
  const require = createRequire(import.meta.url);
  return (require(`${PEER_PACKAGE}/package.json`) as { version: string }).version;
}

export async function runHttpVsPeer(
  options: HttpVsPeerOptions,
  context: ScenarioContext,
): Promise<HttpReport> {
  const startedAt = new Date();
  const environment = await collectEnvironment(startedAt);
  const gateway = options.only === 'peer' ? null : await measureOurs(options, context);
  const peerRun = options.only === 'gateway' ? null : await measurePeer(options, context);
  const runs = [gateway, peerRun].filter((r): r is HttpRun => r !== null);
  const ratios = httpRatios(gateway, peerRun);
  return {
    schema: HTTP_REPORT_SCHEMA,
    scenario: 'http-vs-peer',
    command: context.command,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: {
      agents: options.agents,
      generators: options.generators,
      gateways: options.gateways,
      workers: options.workers,
      rampSeconds: options.rampSeconds,
      warmupSeconds: options.warmupSeconds,
      durationSeconds: options.durationSeconds,
    },
    environment,
    peer: { package: PEER_PACKAGE, version: peerVersion() },
    gateway,
    peerRun,
    ratios,
    oursAtLeastPeer: ratios?.pollsPerSecond == null ? null : ratios.pollsPerSecond >= 1,
    complete: runs.every(isHttpRunComplete),
  };
}

export const httpVsPeerCli: ScenarioCli = {
  name: 'http-vs-peer',
  summary: 'closed-loop HTTP agents: our gateway (Redis, worker, Postgres) vs @elastic/mockopampserver',
  usage: USAGE,
  async run(argv, context) {
    const v = parseScenarioArgs('http-vs-peer', argv, OPTIONS);
    const options: HttpVsPeerOptions = {
      agents: positiveInteger('agents', v.agents, 2000, 15_000),
      generators: positiveInteger('generators', v.generators, 2, 16),
      gateways: positiveInteger('gateways', v.gateways, 1, 16),
      workers: positiveInteger('workers', v.workers, 1, 16),
      rampSeconds: positiveNumber('ramp', v.ramp, 2),
      warmupSeconds: positiveNumber('warmup', v.warmup, 3),
      durationSeconds: positiveNumber('duration', v.duration, 15),
      only: oneOf('only', v.only, ['gateway', 'peer'] as const),
    };
    const report = await runHttpVsPeer(options, context).finally(() => context.cleanup.run());
    return {
      report,
      markdown: formatHttpMarkdown(report),
      charts: httpCharts(report),
      agents: options.agents,
      outDir: v.out === undefined ? null : resolve(v.out),
      json: v.json,
    };
  },
};
