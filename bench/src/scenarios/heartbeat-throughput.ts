import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import type { BenchOptions } from '../args.js';
import { createGenerator } from '../load/create-generator.js';
import { startProgress } from '../load/progress.js';
import type { LoadGenerator } from '../load/types.js';
import { startTimeline } from '../metrics/timeline.js';
import { countFreshInRedis, freshnessToleranceMs } from '../persistence/freshness.js';
import { startPostgresBehindSampler } from '../persistence/postgres-behind.js';
import { readFlushLagSeconds, readLastSeenScores, startRedisLagSampler } from '../persistence/redis-lag.js';
import { scrapeWorkers, startLagSampler, totals, totalsDelta } from '../persistence/worker-metrics.js';
import { collectEnvironment } from '../report/environment.js';
import { buildHeartbeatReport } from '../report/heartbeat-build.js';
import type { HeartbeatThroughputReport } from '../report/heartbeat-types.js';
import { createBenchDatabase } from '../targets/bench-database.js';
import { startGateways } from '../targets/gateway-target.js';
import { openRedisNamespace } from '../targets/redis-namespace.js';
import { startWorkers } from '../targets/worker-target.js';
import type { Cleanup } from './cleanup.js';
import { OPAMP_PATH, SERVER_LIMITS } from './connect.js';
import {
  findPostgresPids,
  findRedisPids,
  readServerCpu,
  runBaselines,
  serverCpu,
  waitForBacklog,
  waitForFreshness,
} from './heartbeat-steps.js';
import { withTimeout } from './with-timeout.js';

/** Each heartbeat interval is scaled by a uniform factor within 1 ± JITTER. */
export const JITTER = 0.1;
const LAG_SAMPLE_MS = 250;
/** Random agents compared between Redis and Postgres, and how often. */
const BEHIND_SAMPLE_AGENTS = 1000;
const BEHIND_SAMPLE_MS = 1000;
/** Longest wait for the connect phase's backlog (events, first flushes) before the steady phase starts anyway. */
const WARMUP_BACKLOG_TIMEOUT_MS = 120_000;
/** The flush has caught up with the connect phase once its lag is below this. */
const WARMUP_MAX_LAG_SECONDS = 5;
const REPLY_TIMEOUT_MS = 10_000;
const FRESHNESS_TIMEOUT_MS = 15_000;
const BASELINE_CHUNK_SIZE = 5000;
/** Bound of a step that normally takes milliseconds (scrapes, /proc reads, sampler stops). */
const STEP_TIMEOUT_MS = 15_000;
/** Bound of one statement of the bench's own Postgres session. */
const STATEMENT_TIMEOUT_MS = 60_000;

export interface HeartbeatScenarioContext {
  command: string;
  redisUrl: string;
  /** A Postgres role allowed to create databases; the run creates and drops its own. */
  adminDatabaseUrl: string;
  progress: (line: string) => void;
  now: () => Date;
  /** Where the run registers its cleanup steps (run at its end; a signal handler may run them early). */
  cleanup: Cleanup;
}

/**
 * The `heartbeat-throughput` scenario: N agents heartbeat through G gateways -> Redis -> W workers
 * -> Postgres for the steady phase, measured end to end; then the same Postgres is measured alone
 * with raw batched updates. Every server, key and database it creates is removed, also on failure.
 */
export async function runHeartbeatThroughputScenario(
  options: BenchOptions,
  context: HeartbeatScenarioContext,
): Promise<HeartbeatThroughputReport> {
  const startedAt = context.now();
  const environment = await collectEnvironment(startedAt);
  const say = context.progress;
  const { cleanup } = context;
  try {
    const ns = await openRedisNamespace(context.redisUrl);
    cleanup.push(() => ns.close());
    const database = await createBenchDatabase(context.adminDatabaseUrl);
    cleanup.push(() => database.drop());
    const probe = postgres(database.url, {
      max: 1,
      onnotice: () => {},
      connection: { statement_timeout: STATEMENT_TIMEOUT_MS, application_name: 'opamp-bench-probe' },
    });
    cleanup.push(() => probe.end({ timeout: 5 }));
    const [gatewaysStart, workersStart] = await Promise.allSettled([
      startGateways({
        processes: options.gateways,
        redisUrl: context.redisUrl,
        path: OPAMP_PATH,
        maxMessageBytes: SERVER_LIMITS.maxMessageBytes,
        idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
        heartbeatIntervalSeconds: options.heartbeatSeconds,
        keyPrefix: ns.keyPrefix,
      }).then((g) => cleanup.track(g, (x) => x.stop())),
      startWorkers({
        processes: options.workers,
        redisUrl: context.redisUrl,
        keyPrefix: ns.keyPrefix,
        databaseUrl: database.url,
      }).then((w) => cleanup.track(w, (x) => x.stop())),
    ]);
    if (gatewaysStart.status === 'rejected') throw gatewaysStart.reason;
    if (workersStart.status === 'rejected') throw workersStart.reason;
    const gateways = gatewaysStart.value;
    const workers = workersStart.value;
    say(
      `servers up: ${options.gateways} gateway(s), ${options.workers} worker(s), database ${database.name}, Redis prefix ${ns.keyPrefix}`,
    );

    const generator: LoadGenerator = await createGenerator(
      {
        url: gateways.url,
        token: null,
        start: 0,
        end: options.agents,
        dialConcurrency: options.dialConcurrency,
        agentsPerSourceAddress: options.agentsPerSourceAddress,
        replyCheck: 'opamp',
      },
      options.agentsPerGenerator,
    );
    cleanup.push(() => generator.close());
    const stopProgress = startProgress('heartbeat', () => generator.counters(), say);
    cleanup.push(async () => stopProgress());
    const timeline = startTimeline(() => generator.counters());
    cleanup.push(async () => void timeline.stop());

    const connect = await generator.connect();
    await generator.startStream(options.heartbeatSeconds * 1000, JITTER);
    const warmupStarted = performance.now();
    say(`connected ${connect.connected}/${connect.requested}; warming up`);
    const [backlog] = await Promise.all([
      waitForBacklog(
        workers.metricsUrls,
        connect.connected,
        () => readFlushLagSeconds(ns.redis, ns.keyPrefix),
        WARMUP_MAX_LAG_SECONDS,
        WARMUP_BACKLOG_TIMEOUT_MS,
      ),
      sleep(options.warmupSeconds * 1000),
    ]);
    const warmup = {
      seconds: (performance.now() - warmupStarted) / 1000,
      connectionEventsWritten: backlog.written,
      eventsDrained: backlog.drained,
      flushLagSeconds: backlog.lagSeconds,
      flushCaughtUp: backlog.caughtUp,
    };

    const pids = {
      gateways: gateways.pids,
      workers: workers.pids,
      redis: await findRedisPids(ns.redis),
      postgres: () => findPostgresPids(probe, database.name),
    };
    const readCounters = () =>
      withTimeout(
        Promise.all([scrapeWorkers(workers.metricsUrls), readServerCpu(pids)]),
        STEP_TIMEOUT_MS,
        'reading the workers and server CPU',
      );
    say(`steady phase: ${options.durationSeconds} s`);
    const [flushBefore, cpuBefore] = await readCounters();
    await generator.markStream();
    const steadyStarted = performance.now();
    const gaugeSampler = startLagSampler(workers.metricsUrls, LAG_SAMPLE_MS);
    const redisSampler = startRedisLagSampler(ns.redis, ns.keyPrefix, LAG_SAMPLE_MS);
    const behindSampler = startPostgresBehindSampler(
      ns.redis,
      ns.keyPrefix,
      probe,
      BEHIND_SAMPLE_AGENTS,
      BEHIND_SAMPLE_MS,
    );
    await sleep(options.durationSeconds * 1000);
    const [lagSamplesSeconds, continuousLagSamplesSeconds, postgresBehindSeconds] = await withTimeout(
      Promise.all([gaugeSampler.stop(), redisSampler.stop(), behindSampler.stop()]),
      STEP_TIMEOUT_MS,
      'stopping the lag samplers',
    );
    const [flushAfter, cpuAfter] = await readCounters();
    const wallSeconds = (performance.now() - steadyStarted) / 1000;
    const stream = await generator.stopStream(REPLY_TIMEOUT_MS);
    const samples = timeline.stop();

    say('checking agents.last_seen_at in Postgres');
    const freshness = await waitForFreshness(
      probe,
      options.agents,
      stream.lastAnswered,
      freshnessToleranceMs(options.heartbeatSeconds),
      stream.windowEndedAt,
      FRESHNESS_TIMEOUT_MS,
    );
    const { stale, ...freshnessSummary } = freshness;
    const staleFreshInRedis = countFreshInRedis(
      stale,
      await readLastSeenScores(ns.redis, ns.keyPrefix, stale.ids),
      freshness.toleranceMs,
    );
    await generator.close();
    stopProgress();
    await gateways.stop();
    await workers.stop();

    say(`baseline: raw batched updates on the same Postgres, ${options.baselineSeconds} s each`);
    const baseline = await runBaselines(probe, database.url, options.baselineSeconds, BASELINE_CHUNK_SIZE);
    return buildHeartbeatReport({
      command: context.command,
      startedAt,
      finishedAt: context.now(),
      options: {
        agents: options.agents,
        gateways: options.gateways,
        workers: options.workers,
        heartbeatSeconds: options.heartbeatSeconds,
        jitter: JITTER,
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
        baselineSeconds: options.baselineSeconds,
        dialConcurrency: options.dialConcurrency,
        agentsPerSourceAddress: options.agentsPerSourceAddress,
        agentsPerGenerator: options.agentsPerGenerator,
      },
      environment,
      servers: {
        redisKeyPrefix: ns.keyPrefix,
        database: database.name,
        gateway: { ...gateways.settings },
        worker: { ...workers.settings },
      },
      connect,
      warmup,
      steady: {
        wallSeconds,
        stream,
        lagSamplesSeconds,
        continuousLagSamplesSeconds,
        postgresBehindSeconds,
        flush: totalsDelta(totals(flushBefore), totals(flushAfter)),
        cpu: serverCpu(cpuBefore, cpuAfter, wallSeconds),
      },
      freshness: { ...freshnessSummary, staleFreshInRedis },
      baseline,
      timeline: samples,
    });
  } finally {
    await cleanup.run();
  }
}
