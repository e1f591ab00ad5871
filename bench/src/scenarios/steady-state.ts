/**
 * `pnpm bench steady-state`: N simulated agents (WebSocket and plain HTTP) heartbeating through
 * gateways -> Redis -> worker -> Postgres (+ sweepers) for --duration; then the same number of
 * WebSocket agents against raw uWS echo processes as the baseline.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { positiveInteger } from '../arg-values.js';
import { collectEnvironment } from '../report/environment.js';
import { type ClusterSettings, startCluster } from '../sim/cluster.js';
import { connectFleet, connectTimeoutMs, measureWindow } from '../sim/measure.js';
import { byReason, leavingOnline, waitOnline } from '../sim/pg-checks.js';
import { inPhase } from '../sim/phase-scope.js';
import { simCharts } from '../sim/report-kit.js';
import {
  parseSimScenarioArgs,
  SIM_USAGE,
  type SimScenarioArgs,
  simOptionsFor,
} from '../sim/scenario-args.js';
import { Simulator } from '../sim/simulator.js';
import { SimTimeline } from '../sim/timeline.js';
import { startBaseline } from '../targets/baseline-target.js';
import { OPAMP_PATH, SERVER_LIMITS } from './connect.js';
import type { ScenarioCli, ScenarioContext, ScenarioOutput } from './registry.js';
import {
  formatSteadyStateMarkdown,
  STEADY_STATE_SCHEMA,
  type SteadyRun,
  type SteadyStateReport,
  steadyRatios,
} from './steady-state-report.js';

const DEFAULTS = {
  agents: 10_000,
  gateways: 2,
  transport: 'mix',
  heartbeatSeconds: 10,
  durationSeconds: 60,
  offlineTimeoutSeconds: 60,
} as const;
const EXTRA = { warmup: { type: 'string' }, 'baseline-duration': { type: 'string' } } as const;

interface Measured {
  run: SteadyRun;
  cluster: ClusterSettings | null;
  online: number | null;
  falseOffline: { count: number; byReason: Record<string, number> } | null;
}

function steadyRun(
  target: SteadyRun['target'],
  args: SimScenarioArgs,
  transport: string,
  connect: { connected: number; seconds: number },
  window: SteadyRun['window'],
  serverRole: string,
  timeline: SteadyRun['timeline'],
): SteadyRun {
  const answered = window.delta.answered;
  const server = window.servers[serverRole];
  const cpuSeconds = server === undefined ? null : (server.cpuPercent / 100) * window.seconds;
  return {
    target,
    transport,
    agents: args.agents,
    connected: connect.connected,
    connectSeconds: connect.seconds,
    expectedPerSecond: args.agents / args.heartbeatSeconds,
    sentPerSecond: window.delta.sent / window.seconds,
    msgsPerSecond: answered / window.seconds,
    window,
    serverCpuMicrosPerMessage: cpuSeconds === null || answered === 0 ? null : (cpuSeconds * 1e6) / answered,
    timeline,
  };
}

async function gatewayRun(
  args: SimScenarioArgs,
  warmupSeconds: number,
  context: ScenarioContext,
): Promise<Measured> {
  return inPhase(context.cleanup, async (phase) => {
    const cluster =
      args.target === null
        ? await startCluster({
            gateways: args.gateways,
            sweepers: 2,
            heartbeatSeconds: args.heartbeatSeconds,
            offlineTimeoutSeconds: args.offlineTimeoutSeconds,
            sweepIntervalMs: 1000,
            redisUrl: context.redisUrl,
            adminDatabaseUrl: context.adminDatabaseUrl,
            cleanup: phase,
            progress: context.progress,
          })
        : null;
    const sim = phase.track(
      await Simulator.create(simOptionsFor(args, args.target ?? (cluster?.url as string))),
      (s) => s.close(),
    );
    const timeline = phase.track(new SimTimeline(sim, context.progress, 'steady-state'), async (t) =>
      t.stop(),
    );
    const firstDialMs = Date.now();
    const connect = await connectFleet(sim, args.agents, connectTimeoutMs(args.agents));
    const online = cluster === null ? null : await waitOnline(cluster.sql, await sim.ids(), 60_000);
    await sleep(warmupSeconds * 1000);
    const window = await measureWindow(
      sim,
      timeline,
      () => (cluster === null ? {} : cluster.pids()),
      args.durationSeconds,
    );
    const transitions = cluster === null ? null : await leavingOnline(cluster.sql, firstDialMs);
    timeline.stop();
    return {
      run: steadyRun('gateway', args, args.sim.transport, connect, window, 'gateways', timeline.series),
      cluster: cluster?.settings ?? null,
      online,
      falseOffline:
        transitions === null ? null : { count: transitions.length, byReason: byReason(transitions) },
    };
  });
}

async function baselineRun(
  args: SimScenarioArgs,
  seconds: number,
  context: ScenarioContext,
): Promise<SteadyRun> {
  return inPhase(context.cleanup, async (phase) => {
    const echo = phase.track(
      await startBaseline({
        processes: args.gateways,
        path: OPAMP_PATH,
        maxPayloadLength: SERVER_LIMITS.maxMessageBytes,
        idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
        maxBackpressureBytes: SERVER_LIMITS.maxBackpressureBytes,
      }),
      (e) => e.stop(),
    );
    const sim = phase.track(await Simulator.create(simOptionsFor(args, echo.url, true)), (s) => s.close());
    const timeline = phase.track(new SimTimeline(sim, context.progress, 'baseline'), async (t) => t.stop());
    const connect = await connectFleet(sim, args.agents, connectTimeoutMs(args.agents));
    await sleep(Math.min(args.heartbeatSeconds, 5) * 1000);
    const window = await measureWindow(sim, timeline, () => ({ echo: [...echo.pids] }), seconds);
    timeline.stop();
    return steadyRun('baseline', args, 'ws', connect, window, 'echo', timeline.series);
  });
}

async function run(argv: readonly string[], context: ScenarioContext): Promise<ScenarioOutput> {
  const args = parseSimScenarioArgs(argv, DEFAULTS, EXTRA);
  const warmupSeconds = positiveInteger('warmup', args.extra.warmup as string | undefined, 5, 3600);
  const baselineSeconds = positiveInteger(
    'baseline-duration',
    args.extra['baseline-duration'] as string | undefined,
    Math.min(args.durationSeconds, 30),
    86_400,
  );
  const started = new Date();
  const environment = await collectEnvironment(started);
  try {
    const gateway = await gatewayRun(args, warmupSeconds, context);
    const baseline = await baselineRun(args, baselineSeconds, context);
    const report: SteadyStateReport = {
      schema: STEADY_STATE_SCHEMA,
      scenario: 'steady-state',
      startedAt: started.toISOString(),
      complete:
        gateway.run.connected === args.agents &&
        baseline.connected === args.agents &&
        (gateway.online === null || gateway.online === args.agents),
      command: context.command,
      environment,
      settings: {
        agents: args.agents,
        transport: args.sim.transport,
        httpShare: args.sim.transport === 'mix' ? args.sim.httpShare : args.sim.transport === 'http' ? 1 : 0,
        heartbeatSeconds: args.heartbeatSeconds,
        durationSeconds: args.durationSeconds,
        warmupSeconds,
        baselineDurationSeconds: baselineSeconds,
        target: args.target ?? 'local cluster',
        cluster: gateway.cluster,
      },
      gateway: {
        ...gateway.run,
        onlineInPostgres: gateway.online,
        falseOfflineTransitions: gateway.falseOffline,
      },
      baseline,
      ratios: steadyRatios(gateway.run, baseline),
    };
    return {
      report,
      markdown: formatSteadyStateMarkdown(report),
      agents: args.agents,
      charts: simCharts(
        [
          { label: 'gateway', timeline: gateway.run.timeline },
          { label: 'baseline', timeline: baseline.timeline },
        ],
        [
          { label: 'gateway WS', latency: gateway.run.window.latencyByTransport.ws },
          { label: 'gateway HTTP', latency: gateway.run.window.latencyByTransport.http },
          { label: 'uWS echo', latency: baseline.window.latency },
        ],
        'Reply latency (heartbeat -> ServerToAgent)',
      ),
      outDir: args.outDir,
      json: args.json,
    };
  } finally {
    await context.cleanup.run();
  }
}

export const steadyStateCli: ScenarioCli = {
  name: 'steady-state',
  summary: 'N realistic agents (WS + HTTP) heartbeating through the whole cluster; uWS echo baseline',
  usage: `${SIM_USAGE}
  --warmup S                  after connecting, before measuring (default 5)
  --baseline-duration S       measured phase of the echo baseline (default min(duration, 30))
  (defaults: 10000 agents, 2 gateways, mix, heartbeat 10 s, 60 s, offline timeout 60 s)`,
  run,
};
