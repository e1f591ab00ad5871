/**
 * `pnpm bench scale` (scaleCli): N WebSocket agents held by G gateway processes sharing one port,
 * heartbeating through Redis -> worker -> Postgres with a sweeper running; then every agent is
 * checked `online` in Postgres, and the same N connections are held by raw uWS echo processes as the
 * same-run baseline of memory per connection and connect cost.
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { createGenerator } from '../load/create-generator.js';
import { startProgress } from '../load/progress.js';
import type { ConnectOutcome, GeneratorUsage, LoadGenerator, ReplyCheck } from '../load/types.js';
import { readCpuOf } from '../metrics/cpu-groups.js';
import { readRssBytes } from '../metrics/proc.js';
import { startRssPeak } from '../metrics/rss-peak.js';
import { ratio, summarize } from '../metrics/stats.js';
import { startTimeline } from '../metrics/timeline.js';
import { scrapeWorkers, totals } from '../persistence/worker-metrics.js';
import { phaseUsage, SATURATION_THRESHOLD } from '../report/build.js';
import { scaleCharts } from '../report/charts.js';
import { collectEnvironment } from '../report/environment.js';
import { startAppProcesses } from '../targets/app-processes.js';
import { startBaseline } from '../targets/baseline-target.js';
import { createBenchDatabase } from '../targets/bench-database.js';
import { startGateways } from '../targets/gateway-target.js';
import { openRedisNamespace } from '../targets/redis-namespace.js';
import { startWorkers } from '../targets/worker-target.js';
import { OPAMP_PATH, SERVER_LIMITS } from './connect.js';
import { findPostgresPids, findRedisPids, readServerCpu, serverCpu } from './heartbeat-steps.js';
import type { ScenarioCli, ScenarioContext, ScenarioOutput } from './registry.js';
import { parseScaleArgs, SCALE_USAGE, type ScaleOptions } from './scale-args.js';
import {
  formatScaleMarkdown,
  type GeneratorPhase,
  type HeldFleet,
  SCALE_REPORT_SCHEMA,
  type ScaleReport,
  scaleRatios,
} from './scale-report.js';

/** Each heartbeat interval is scaled by a uniform factor within 1 ± JITTER. */
const JITTER = 0.1;
const REPLY_TIMEOUT_MS = 10_000;
const ONLINE_POLL_MS = 1000;
/** Phases shorter than this are dominated by start-up work: not judged for generator saturation. */
const SATURATION_MIN_WALL_SECONDS = 1;
/** Pause between connecting the baseline fleet and reading its RSS (uWS settles its buffers). */
const BASELINE_SETTLE_MS = 2000;
/**
 * How long the sweeper may take to answer /readyz: it starts while the whole fleet heartbeats, and on
 * a saturated host (250,000 agents: ~30 busy processes on two cores) loading its modules took over
 * 20 s.
 */
const SWEEPER_READY_TIMEOUT_MS = 120_000;
/** Margin after the first heartbeat interval before the sweeper starts (the generator's send lag). */
const SWEEPER_START_SLACK_MS = 1000;
/** Longest wait for the stream's first round of replies, in heartbeat intervals. */
const FIRST_ROUND_MAX_INTERVALS = 5;
const FIRST_ROUND_POLL_MS = 250;

/**
 * Waits until the stream has been answered as often as there are agents (so, with first sends spread
 * over one interval, about every agent once: the presence each wrote at connect is fresh again), and
 * at least `minMs`, at most `maxMs`. On a saturated host a fixed interval is not enough: heartbeats
 * leave late and are answered late, and an agent that connected minutes before the stream began would
 * be taken offline on the sweeper's first tick although its heartbeat is on the way.
 */
async function waitFirstRound(
  generator: LoadGenerator,
  replies: number,
  minMs: number,
  maxMs: number,
): Promise<{ waitedSeconds: number; complete: boolean }> {
  const started = performance.now();
  const base = generator.counters().received;
  await sleep(minMs);
  for (;;) {
    const complete = generator.counters().received - base >= replies;
    const waited = performance.now() - started;
    if (complete || waited >= maxMs) return { waitedSeconds: waited / 1000, complete };
    await sleep(FIRST_ROUND_POLL_MS);
  }
}

interface Servers {
  url: string;
  pids: readonly number[];
  replyCheck: ReplyCheck;
}

function generatorPhase(usage: GeneratorUsage, wallSeconds: number): GeneratorPhase {
  const phase = phaseUsage(usage, wallSeconds);
  return {
    ...phase,
    saturated:
      phase.wallSeconds >= SATURATION_MIN_WALL_SECONDS &&
      phase.peakProcessCpuPercent >= SATURATION_THRESHOLD * 100,
  };
}

async function readHeld(pids: readonly number[]): Promise<{ rssBytes: number; cpuSeconds: number }> {
  const [rss, cpu] = await Promise.all([Promise.all(pids.map((pid) => readRssBytes(pid))), readCpuOf(pids)]);
  return {
    rssBytes: rss.reduce((a, b) => a + b, 0),
    cpuSeconds: [...cpu.values()].reduce((a, b) => a + b, 0),
  };
}

/** Connects the whole fleet to `servers` and reads their RSS and CPU around it. */
async function connectFleet(
  servers: Servers,
  o: ScaleOptions,
  context: ScenarioContext,
  label: string,
): Promise<{ generator: LoadGenerator; connect: ConnectOutcome; held: HeldFleet }> {
  const before = await readHeld(servers.pids);
  const generatorProcesses = Math.ceil(o.agents / o.agentsPerGenerator);
  const generator = await createGenerator(
    {
      url: servers.url,
      token: null,
      start: 0,
      end: o.agents,
      dialConcurrency: Math.max(1, Math.ceil(o.dialConcurrency / generatorProcesses)),
      agentsPerSourceAddress: o.agentsPerSourceAddress,
      replyCheck: servers.replyCheck,
    },
    o.agentsPerGenerator,
  );
  context.cleanup.push(() => generator.close());
  const stopProgress = startProgress(label, () => generator.counters(), context.progress);
  const started = performance.now();
  const timeline = startTimeline(() => generator.counters());
  const connect = await generator.connect().finally(stopProgress);
  const connectTimeline = timeline.stop();
  const wallSeconds = (performance.now() - started) / 1000;
  if (servers.replyCheck === 'echo') await sleep(BASELINE_SETTLE_MS);
  const after = await readHeld(servers.pids);
  const fullFleetSeconds = Math.max(0, (connect.lastReplyAt - connect.firstDialAt) / 1000);
  return {
    generator,
    connect,
    held: {
      processes: servers.pids.length,
      connected: connect.connected,
      rssBeforeBytes: before.rssBytes,
      rssAfterConnectBytes: after.rssBytes,
      rssPerConnectionBytes: ratio(after.rssBytes - before.rssBytes, connect.connected),
      cpuMicrosPerConnect: ratio((after.cpuSeconds - before.cpuSeconds) * 1e6, connect.connected),
      connectRatePerSecond: ratio(connect.connected, fullFleetSeconds),
      fullFleetSeconds,
      generator: generatorPhase(connect.usage, wallSeconds),
      timeline: connectTimeline,
    },
  };
}

/** How long the online check waits: the worker may still be writing the connect phase's events. */
function onlineTimeoutMs(agents: number): number {
  return Math.max(60_000, 2 * agents);
}

/** Polls the run's agents table until `expected` agents are online or `timeoutMs` passed. */
async function waitOnline(
  sql: postgres.Sql,
  expected: number,
  timeoutMs: number,
): Promise<Omit<ScaleReport['online'], 'atEnd'>> {
  const started = performance.now();
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from agents where status = 'online'`;
    const online = row?.n ?? 0;
    const waitedSeconds = (performance.now() - started) / 1000;
    if (online >= expected || waitedSeconds * 1000 >= timeoutMs) return { expected, online, waitedSeconds };
    await sleep(ONLINE_POLL_MS);
  }
}

/** How long the scrape at the end of the online check waits for each worker. */
const CHECK_END_SCRAPE_TIMEOUT_MS = 10_000;

/**
 * Where the agents stand when the online check ends, so a short count says why: agents by stored
 * status and reason (an agent whose connect event is not written yet has a row from the heartbeat
 * flush, offline without a reason), connect events written and event batches still queued.
 */
async function readCheckEnd(
  sql: postgres.Sql,
  workerMetricsUrls: readonly string[],
): Promise<ScaleReport['online']['atEnd']> {
  const [rows, scrapes] = await Promise.all([
    sql<{ status: string; reason: string | null; agents: number }[]>`
      select status, status_reason as reason, count(*)::int as agents from agents
      group by 1, 2 order by 3 desc, 1, 2`,
    // read once, so a worker slow to answer on a saturated box is waited for rather than left out
    scrapeWorkers(workerMetricsUrls, CHECK_END_SCRAPE_TIMEOUT_MS),
  ]);
  const answered = scrapes.filter((s) => s !== null);
  return {
    byStatus: rows.map((r) => ({ status: r.status, reason: r.reason, agents: r.agents })),
    workers: workerMetricsUrls.length,
    workersAnswered: answered.length,
    connectionOpenedWritten: answered.length === 0 ? null : totals(scrapes).connectionOpened,
    // every worker samples the same shared queue
    eventJobsWaiting: answered.length === 0 ? null : Math.max(...answered.map((s) => s.eventJobsWaiting)),
  };
}

/** The gateway side of the run: cluster up, fleet connected, heartbeat phase, online check. */
async function gatewayRun(o: ScaleOptions, context: ScenarioContext) {
  const { cleanup } = context;
  const ns = cleanup.track(await openRedisNamespace(context.redisUrl), (n) => n.close());
  const database = cleanup.track(await createBenchDatabase(context.adminDatabaseUrl), (d) => d.drop());
  const sql = cleanup.track(
    postgres(database.url, {
      max: 1,
      onnotice: () => {},
      connection: { application_name: 'opamp-bench-probe' },
    }),
    (s) => s.end({ timeout: 5 }),
  );
  const [gateways, workers] = await Promise.all([
    startGateways({
      processes: o.gateways,
      redisUrl: context.redisUrl,
      path: OPAMP_PATH,
      maxMessageBytes: SERVER_LIMITS.maxMessageBytes,
      idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
      heartbeatIntervalSeconds: o.heartbeatSeconds,
      keyPrefix: ns.keyPrefix,
    }).then((g) => cleanup.track(g, (x) => x.stop())),
    startWorkers({
      processes: o.workers,
      redisUrl: context.redisUrl,
      keyPrefix: ns.keyPrefix,
      databaseUrl: database.url,
    }).then((w) => cleanup.track(w, (x) => x.stop())),
  ]);
  context.progress(
    `servers up: ${o.gateways} gateway(s), ${o.workers} worker(s), database ${database.name}, Redis prefix ${ns.keyPrefix}`,
  );
  // the gateways' memory over the whole run: it can grow most while Redis and Postgres fall behind
  const rssPeak = startRssPeak(gateways.pids);
  cleanup.push(() => rssPeak.stop());
  const { generator, connect, held } = await connectFleet(
    { url: gateways.url, pids: gateways.pids, replyCheck: 'opamp' },
    o,
    context,
    'scale',
  );
  context.progress(`connected ${connect.connected}/${o.agents}; heartbeats every ${o.heartbeatSeconds} s`);

  const pids = {
    gateways: gateways.pids,
    workers: workers.pids,
    redis: await findRedisPids(ns.redis),
    postgres: () => findPostgresPids(sql, database.name),
  };
  const stopProgress = startProgress('scale', () => generator.counters(), context.progress);
  // Agents heartbeat only once the whole fleet is connected: the sweeper starts after every agent's
  // first heartbeat was answered, else it would take the first agents offline during a long connect.
  const firstRound = waitFirstRound(
    generator,
    connect.connected,
    o.heartbeatSeconds * 1000 * (1 + JITTER) + SWEEPER_START_SLACK_MS,
    o.heartbeatSeconds * 1000 * FIRST_ROUND_MAX_INTERVALS,
  );
  await generator.startStream(o.heartbeatSeconds * 1000, JITTER);
  const sweeperStart = await firstRound;
  const sweepers = cleanup.track(
    await startAppProcesses(
      'sweeper',
      [
        {
          REDIS_URL: context.redisUrl,
          REDIS_KEY_PREFIX: ns.keyPrefix,
          DATABASE_URL: database.url,
          SWEEPER_ID: 'bench-sweeper-1',
          OFFLINE_TIMEOUT_SECONDS: String(o.offlineTimeoutSeconds),
        },
      ],
      { readyTimeoutMs: SWEEPER_READY_TIMEOUT_MS },
    ),
    (x) => x.stop(),
  );
  context.progress(
    `sweeper up ${sweeperStart.waitedSeconds.toFixed(1)} s into the stream${sweeperStart.complete ? '' : ' (first round of replies incomplete)'}; measuring ${o.durationSeconds} s`,
  );
  await generator.markStream();
  const cpuBefore = await readServerCpu(pids);
  const started = performance.now();
  await sleep(o.durationSeconds * 1000);
  const cpuAfter = await readServerCpu(pids);
  const wallSeconds = (performance.now() - started) / 1000;
  const afterStream = await readHeld(gateways.pids);
  context.progress('checking agents online in Postgres (heartbeats go on)');
  const checked = await waitOnline(sql, connect.connected, onlineTimeoutMs(o.agents));
  const [gatewayRss, atEnd] = await Promise.all([rssPeak.stop(), readCheckEnd(sql, workers.metricsUrls)]);
  const online = { ...checked, atEnd };
  const stream = await generator.stopStream(REPLY_TIMEOUT_MS).finally(stopProgress);
  await generator.close();
  await Promise.all([gateways.stop(), workers.stop(), sweepers.stop()]);
  return {
    ns,
    database,
    gateways,
    connect,
    held,
    stream,
    wallSeconds,
    online,
    afterStream,
    gatewayRss,
    sweeperStart,
    cpu: serverCpu(cpuBefore, cpuAfter, wallSeconds),
  };
}

/** The same fleet held by raw uWS echo processes, one per gateway. */
async function baselineRun(o: ScaleOptions, context: ScenarioContext): Promise<HeldFleet> {
  const echo = context.cleanup.track(
    await startBaseline({
      processes: o.gateways,
      path: OPAMP_PATH,
      maxPayloadLength: SERVER_LIMITS.maxMessageBytes,
      idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
      maxBackpressureBytes: SERVER_LIMITS.maxBackpressureBytes,
    }),
    (e) => e.stop(),
  );
  const { generator, held } = await connectFleet(echo, o, context, 'baseline');
  await generator.close();
  await echo.stop();
  return held;
}

async function runScale(o: ScaleOptions, context: ScenarioContext): Promise<ScaleReport> {
  const startedAt = new Date();
  const environment = await collectEnvironment(startedAt);
  const gw = await gatewayRun(o, context);
  const baseline = o.baseline ? await baselineRun(o, context) : null;
  const { stream, cpu } = gw;
  const windowSeconds = Math.max(0, (stream.windowEndedAt - stream.windowStartedAt) / 1000);
  const groups = [cpu.gateways, cpu.workers, cpu.redis, cpu.postgres];
  const serverSeconds = groups.reduce((n, g) => n + (g?.cpuSeconds ?? 0), 0);
  const agents = o.agents;
  const repliesPerSecond = ratio(stream.replied, windowSeconds) ?? 0;
  return {
    schema: SCALE_REPORT_SCHEMA,
    scenario: 'scale',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    complete:
      gw.connect.connected === agents &&
      stream.unanswered === 0 &&
      stream.badReplies === 0 &&
      gw.online.online >= agents &&
      (baseline === null || baseline.connected === agents),
    command: context.command,
    environment,
    loadAverageEnd1m: os.loadavg()[0] ?? 0,
    settings: {
      agents,
      gateways: o.gateways,
      workers: o.workers,
      sweepers: 1,
      heartbeatSeconds: o.heartbeatSeconds,
      jitter: JITTER,
      durationSeconds: o.durationSeconds,
      offlineTimeoutSeconds: o.offlineTimeoutSeconds,
      dialConcurrency: o.dialConcurrency,
      agentsPerSourceAddress: o.agentsPerSourceAddress,
      agentsPerGenerator: o.agentsPerGenerator,
      generatorProcesses: gw.connect.usage.processes,
      sweeperStartSeconds: gw.sweeperStart.waitedSeconds,
      sweeperStartAfterFirstRound: gw.sweeperStart.complete,
      redisKeyPrefix: gw.ns.keyPrefix,
      database: gw.database.name,
    },
    connect: {
      requested: gw.connect.requested,
      connected: gw.connect.connected,
      failed: gw.connect.failed,
      dialErrors: gw.connect.dialErrors,
      handshakeMs: summarize(gw.connect.handshakeMs),
      firstReplyMs: summarize(gw.connect.firstReplyMs),
    },
    heartbeats: {
      windowSeconds,
      sent: stream.sent,
      replied: stream.replied,
      unanswered: stream.unanswered,
      skippedInFlight: stream.skippedInFlight,
      badReplies: stream.badReplies,
      unexpectedCloses: stream.unexpectedCloses,
      repliesPerSecond,
      latencyMs: summarize(stream.latencyMs),
      sendLagMs: summarize(stream.sendLagMs),
    },
    online: gw.online,
    gateway: {
      ...gw.held,
      rssAfterStreamBytes: gw.afterStream.rssBytes,
      rssPerConnectionAfterStreamBytes: ratio(
        gw.afterStream.rssBytes - gw.held.rssBeforeBytes,
        gw.connect.connected,
      ),
      rssOverRun: gw.gatewayRss,
      generatorStream: generatorPhase(stream.usage, windowSeconds), // the usage spans the whole window
      generatorRssBytes: Math.max(gw.connect.usage.rssBytes, stream.usage.rssBytes),
    },
    cpu: {
      gateways: cpu.gateways,
      workers: cpu.workers,
      redis: cpu.redis,
      postgres: cpu.postgres,
      host: cpu.host,
      serverMicrosPerHeartbeat: ratio(serverSeconds * 1e6, repliesPerSecond * gw.wallSeconds),
    },
    baseline,
    ratios: scaleRatios(gw.held, baseline),
  };
}

async function run(argv: readonly string[], context: ScenarioContext): Promise<ScenarioOutput> {
  const options = parseScaleArgs(argv);
  try {
    const report = await runScale(options, context);
    return {
      report,
      markdown: formatScaleMarkdown(report),
      charts: scaleCharts(report),
      agents: options.agents,
      outDir: options.out === null ? null : resolve(options.out),
      json: options.json,
    };
  } finally {
    await context.cleanup.run();
  }
}

export const scaleCli: ScenarioCli = {
  name: 'scale',
  summary:
    'N agents (default 100000) held by G gateways, heartbeating, all online in Postgres; uWS echo baseline',
  usage: SCALE_USAGE,
  run,
};
