/**
 * `pnpm bench rolling-restart`: N agents over G gateways sharing the port, with a worker and two
 * sweepers; the gateways restart one at a time (SIGTERM: drain, then a new one on the same port)
 * while agents reconnect with backoff. Per restart: agents dropped, time until all reconnected,
 * false offline transitions in Postgres; then the same storm against raw uWS echo processes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { positiveInteger } from '../arg-values.js';
import { ArgsError } from '../args-error.js';
import { collectEnvironment } from '../report/environment.js';
import { startCluster } from '../sim/cluster.js';
import { connectFleet, connectTimeoutMs } from '../sim/measure.js';
import { byReason, leavingOnline, offlineSpells, waitOnline } from '../sim/pg-checks.js';
import { inPhase } from '../sim/phase-scope.js';
import { latencyReport, simCharts, simReportPart } from '../sim/report-kit.js';
import {
  parseSimScenarioArgs,
  SIM_USAGE,
  type SimScenarioArgs,
  simOptionsFor,
} from '../sim/scenario-args.js';
import { Simulator } from '../sim/simulator.js';
import { SimTimeline } from '../sim/timeline.js';
import { startBaseline } from '../targets/baseline-target.js';
import type { ServerTarget } from '../targets/server-target.js';
import { OPAMP_PATH, SERVER_LIMITS } from './connect.js';
import type { ScenarioCli, ScenarioContext, ScenarioOutput } from './registry.js';
import {
  falseOfflinesPerRestart,
  formatRollingRestartMarkdown,
  type RestartRun,
  ROLLING_RESTART_SCHEMA,
  type RollingRestartReport,
  restartRatios,
  worstOf,
} from './rolling-restart-report.js';
import { type Restartable, rollingRestart } from './rolling-restart-steps.js';

const DEFAULTS = {
  agents: 10_000,
  gateways: 3,
  transport: 'ws',
  heartbeatSeconds: 30,
  durationSeconds: 1,
  offlineTimeoutSeconds: 60,
} as const;
const EXTRA = { settle: { type: 'string' }, tail: { type: 'string' } } as const;
const SWEEP_INTERVAL_MS = 1000;
const RECONNECT_TIMEOUT_SECONDS = 120;

interface Phase {
  args: SimScenarioArgs;
  settleSeconds: number;
  context: ScenarioContext;
}

/** Connects the fleet, restarts every server in turn, returns the run (without Postgres checks). */
async function restartRun(
  target: RestartRun['target'],
  sim: Simulator,
  servers: Restartable,
  p: Phase,
): Promise<RestartRun> {
  const timeline = new SimTimeline(sim, p.context.progress, `rolling-restart ${target}`);
  try {
    const connect = await connectFleet(sim, p.args.agents, connectTimeoutMs(p.args.agents));
    await sleep(p.settleSeconds * 1000);
    const usageBefore = sim.usage();
    const start = performance.now();
    const { restarts, reconnectMs } = await rollingRestart(
      sim,
      servers,
      p.args.agents,
      p.settleSeconds,
      RECONNECT_TIMEOUT_SECONDS,
      p.context.progress,
    );
    return {
      target,
      servers: servers.count,
      connected: connect.connected,
      connectSeconds: connect.seconds,
      restarts,
      reconnectLatency: latencyReport(reconnectMs),
      worstAllReconnectedSeconds: worstOf(restarts),
      sim: simReportPart(timeline.summary(usageBefore, (performance.now() - start) / 1000), sim.counters()),
      timeline: timeline.series,
    };
  } finally {
    timeline.stop();
  }
}

async function gatewayRun(p: Phase, tailSeconds: number) {
  const { args, context } = p;
  return inPhase(context.cleanup, async (phase) => {
    const cluster = await startCluster({
      gateways: args.gateways,
      sweepers: 2,
      heartbeatSeconds: args.heartbeatSeconds,
      offlineTimeoutSeconds: args.offlineTimeoutSeconds,
      sweepIntervalMs: SWEEP_INTERVAL_MS,
      redisUrl: context.redisUrl,
      adminDatabaseUrl: context.adminDatabaseUrl,
      cleanup: phase,
      progress: context.progress,
    });
    const sim = phase.track(await Simulator.create(simOptionsFor(args, cluster.url)), (s) => s.close());
    const servers: Restartable = {
      count: args.gateways,
      stop: (i) => cluster.stopGateway(i),
      start: (i) => cluster.startGateway(i),
    };
    const run = await restartRun('gateway', sim, servers, p);
    context.progress(`rolling-restart: waiting ${tailSeconds} s for late offline transitions`);
    await sleep(tailSeconds * 1000);
    const firstRestartMs = run.restarts[0]?.atMs ?? Date.now();
    const rows = await leavingOnline(cluster.sql, firstRestartMs);
    const spells = await offlineSpells(cluster.sql, firstRestartMs);
    const onlineAtEnd = await waitOnline(cluster.sql, await sim.ids(), 1000);
    return {
      cluster: cluster.settings,
      run,
      onlineAtEnd,
      falseOffline: {
        count: rows.length,
        perRestart: falseOfflinesPerRestart(
          rows,
          run.restarts.map((r) => r.atMs),
        ),
        byReason: byReason(rows),
        offlineFor: latencyReport(spells.filter((ms): ms is number => ms !== null)),
        neverBack: spells.filter((ms) => ms === null).length,
      },
    };
  });
}

async function baselineRun(p: Phase): Promise<RestartRun> {
  const { args, context } = p;
  return inPhase(context.cleanup, async (phase) => {
    const echoOptions = {
      processes: 1,
      path: OPAMP_PATH,
      maxPayloadLength: SERVER_LIMITS.maxMessageBytes,
      idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
      maxBackpressureBytes: SERVER_LIMITS.maxBackpressureBytes,
    };
    const echoes: ServerTarget[] = [];
    phase.push(() => Promise.all(echoes.map((e) => e.stop())));
    echoes.push(await startBaseline(echoOptions));
    const first = echoes[0] as ServerTarget;
    const port = Number(new URL(first.url).port);
    for (let i = 1; i < args.gateways; i++) echoes.push(await startBaseline({ ...echoOptions, port }));
    const sim = phase.track(await Simulator.create(simOptionsFor(args, first.url, true)), (s) => s.close());
    return restartRun(
      'baseline',
      sim,
      {
        count: args.gateways,
        stop: async (i) => echoes[i]?.stop(),
        start: async (i) => {
          echoes[i] = await startBaseline({ ...echoOptions, port });
        },
      },
      p,
    );
  });
}

async function run(argv: readonly string[], context: ScenarioContext): Promise<ScenarioOutput> {
  const args = parseSimScenarioArgs(argv, DEFAULTS, EXTRA);
  if (args.target !== null)
    throw new ArgsError('rolling-restart restarts its own gateways: --target does not apply');
  if (args.gateways < 2)
    throw new ArgsError('rolling-restart needs --gateways >= 2 (agents move to the others)');
  const settleSeconds = positiveInteger('settle', args.extra.settle as string | undefined, 5, 3600);
  const tailSeconds = positiveInteger(
    'tail',
    args.extra.tail as string | undefined,
    args.offlineTimeoutSeconds + (2 * SWEEP_INTERVAL_MS) / 1000 + 5,
    86_400,
  );
  const started = new Date();
  const environment = await collectEnvironment(started);
  const phase: Phase = { args, settleSeconds, context };
  try {
    const gateway = await gatewayRun(phase, tailSeconds);
    const baseline = await baselineRun(phase);
    const runs = [gateway.run, baseline];
    const report: RollingRestartReport = {
      schema: ROLLING_RESTART_SCHEMA,
      scenario: 'rolling-restart',
      startedAt: started.toISOString(),
      complete: runs.every((r) => r.connected === args.agents && r.worstAllReconnectedSeconds !== null),
      command: context.command,
      environment,
      settings: {
        agents: args.agents,
        transport: args.sim.transport,
        heartbeatSeconds: args.heartbeatSeconds,
        offlineTimeoutSeconds: args.offlineTimeoutSeconds,
        settleSeconds,
        tailSeconds,
        backoff: args.sim.backoff,
        cluster: gateway.cluster,
      },
      gateway: { ...gateway.run, falseOffline: gateway.falseOffline, onlineAtEnd: gateway.onlineAtEnd },
      baseline,
      ratios: restartRatios(gateway.run, baseline),
    };
    return {
      report,
      markdown: formatRollingRestartMarkdown(report),
      agents: args.agents,
      charts: simCharts(
        runs.map((r) => ({ label: r.target, timeline: r.timeline })),
        runs.map((r) => ({ label: r.target, latency: r.reconnectLatency })),
        'Reconnect latency (drop -> first reply on the new connection)',
      ),
      outDir: args.outDir,
      json: args.json,
    };
  } finally {
    await context.cleanup.run();
  }
}

export const rollingRestartCli: ScenarioCli = {
  name: 'rolling-restart',
  summary: 'gateways restarted one at a time under N agents; drops, time to reconnect, false offlines',
  usage: `${SIM_USAGE}
  --settle S                  pause before the first and after each restart (default 5)
  --tail S                    wait after the last restart before counting false offlines
                              (default offline timeout + 7)
  (defaults: 10000 agents, 3 gateways, ws, heartbeat 30 s, offline timeout 60 s; --duration unused)`,
  run,
};
