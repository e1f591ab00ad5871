/**
 * `pnpm bench churn`: a steady fleet through the whole cluster while agents leave (half with a
 * goodbye, half silently) and fresh agents join at --churn-per-minute; then how many leavers
 * reached offline in Postgres and how fast, and the connection history written.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { positiveInteger } from '../arg-values.js';
import { collectEnvironment } from '../report/environment.js';
import { latencyChart } from '../report/svg.js';
import { type Cluster, startCluster } from '../sim/cluster.js';
import { connectFleet, connectTimeoutMs, measureWindow } from '../sim/measure.js';
import { connectionHistory, leavingOnline, statusOf, waitOnline } from '../sim/pg-checks.js';
import { inPhase } from '../sim/phase-scope.js';
import { simCharts } from '../sim/report-kit.js';
import {
  parseSimScenarioArgs,
  SIM_USAGE,
  type SimScenarioArgs,
  simOptionsFor,
} from '../sim/scenario-args.js';
import type { LeftAgent } from '../sim/sim-ipc.js';
import { Simulator } from '../sim/simulator.js';
import { SimTimeline } from '../sim/timeline.js';
import { CHURN_SCHEMA, type ChurnReport, formatChurnMarkdown, leaverOutcome } from './churn-report.js';
import type { ScenarioCli, ScenarioContext, ScenarioOutput } from './registry.js';

const DEFAULTS = {
  agents: 10_000,
  gateways: 2,
  transport: 'mix',
  heartbeatSeconds: 10,
  durationSeconds: 120,
  offlineTimeoutSeconds: 30,
} as const;
const EXTRA = { 'churn-per-minute': { type: 'string' } } as const;
const SWEEP_INTERVAL_MS = 1000;
const TAIL_POLL_MS = 1000;

/** Every second, `perMinute / 60` agents leave and as many fresh ones join (fractions carry over). */
async function churnFor(
  sim: Simulator,
  perMinute: number,
  seconds: number,
  left: LeftAgent[],
): Promise<{ joined: number }> {
  let owed = 0;
  let joined = 0;
  const start = performance.now();
  for (let tick = 1; tick <= seconds; tick++) {
    owed += perMinute / 60;
    const n = Math.floor(owed);
    owed -= n;
    if (n > 0) {
      left.push(...(await sim.leave(n)));
      joined += await sim.join(n);
    }
    await sleep(Math.max(0, start + tick * 1000 - performance.now()));
  }
  return { joined };
}

/** Polls until every leaver is offline in Postgres or `timeoutMs` passes. */
async function waitLeaversOffline(cluster: Cluster, left: readonly LeftAgent[], timeoutMs: number) {
  const ids = left.map((l) => l.id);
  const start = performance.now();
  for (;;) {
    const status = await statusOf(cluster.sql, ids);
    const pending = ids.filter((id) => (status.get(id)?.status ?? 'online') === 'online').length;
    if (pending === 0 || performance.now() - start >= timeoutMs) {
      return { status, seconds: (performance.now() - start) / 1000 };
    }
    await sleep(TAIL_POLL_MS);
  }
}

async function runChurn(args: SimScenarioArgs, perMinute: number, context: ScenarioContext) {
  return inPhase(context.cleanup, async (phase) => {
    const cluster =
      args.target === null
        ? await startCluster({
            gateways: args.gateways,
            sweepers: 2,
            heartbeatSeconds: args.heartbeatSeconds,
            offlineTimeoutSeconds: args.offlineTimeoutSeconds,
            sweepIntervalMs: SWEEP_INTERVAL_MS,
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
    const timeline = phase.track(new SimTimeline(sim, context.progress, 'churn'), async (t) => t.stop());
    const firstDialMs = Date.now();
    const connect = await connectFleet(sim, args.agents, connectTimeoutMs(args.agents));
    if (cluster !== null) await waitOnline(cluster.sql, await sim.ids(), 60_000);
    const left: LeftAgent[] = [];
    let joined = 0;
    const window = await measureWindow(
      sim,
      timeline,
      () => (cluster === null ? {} : cluster.pids()),
      args.durationSeconds,
      async () => {
        joined = (await churnFor(sim, perMinute, args.durationSeconds, left)).joined;
      },
    );
    const tailSeconds = args.offlineTimeoutSeconds + 20;
    let offline: ChurnReport['offline'] = null;
    let aliveOnline: ChurnReport['aliveOnline'] = null;
    let falseOffline: number | null = null;
    let history: ChurnReport['history'] = null;
    if (cluster !== null) {
      context.progress(`churn: waiting up to ${tailSeconds} s for the last leavers to go offline`);
      const tail = await waitLeaversOffline(cluster, left, tailSeconds * 1000);
      offline = {
        graceful: leaverOutcome(
          left.filter((l) => l.mode === 'graceful'),
          tail.status,
        ),
        silent: leaverOutcome(
          left.filter((l) => l.mode === 'silent'),
          tail.status,
        ),
        tailWaitSeconds: tail.seconds,
      };
      const alive = await sim.ids();
      const online = await waitOnline(cluster.sql, alive, 20_000);
      const status = online < alive.length ? await statusOf(cluster.sql, alive) : new Map();
      aliveOnline = {
        alive: alive.length,
        online,
        notOnline: alive
          .filter((id) => status.size > 0 && status.get(id)?.status !== 'online')
          .slice(0, 20)
          .map((id) => ({ id, status: status.get(id)?.status ?? 'absent' })),
      };
      const leftIds = new Set(left.map((l) => l.id));
      falseOffline = (await leavingOnline(cluster.sql, firstDialMs)).filter(
        (t) => !leftIds.has(t.agentId),
      ).length;
      const counters = sim.counters();
      history = {
        expected: { ws: counters.connectsWs, http: counters.startedHttp },
        written: await connectionHistory(cluster.sql),
      };
    }
    timeline.stop();
    return {
      cluster,
      connect,
      window,
      left,
      joined,
      offline,
      aliveOnline,
      falseOffline,
      history,
      tailSeconds,
      timeline,
    };
  });
}

async function run(argv: readonly string[], context: ScenarioContext): Promise<ScenarioOutput> {
  const args = parseSimScenarioArgs(argv, DEFAULTS, EXTRA);
  const perMinute = positiveInteger(
    'churn-per-minute',
    args.extra['churn-per-minute'] as string | undefined,
    Math.max(1, Math.round(args.agents / 10)),
    args.agents * 60,
  );
  const started = new Date();
  const environment = await collectEnvironment(started);
  try {
    const r = await runChurn(args, perMinute, context);
    const minutes = r.window.seconds / 60;
    const d = r.window.delta;
    const report: ChurnReport = {
      schema: CHURN_SCHEMA,
      scenario: 'churn',
      startedAt: started.toISOString(),
      complete:
        r.connect.connected === args.agents &&
        (r.aliveOnline === null || r.aliveOnline.online === r.aliveOnline.alive),
      command: context.command,
      environment,
      settings: {
        agents: args.agents,
        transport: args.sim.transport,
        heartbeatSeconds: args.heartbeatSeconds,
        durationSeconds: args.durationSeconds,
        churnPerMinute: perMinute,
        offlineTimeoutSeconds: args.offlineTimeoutSeconds,
        tailSeconds: r.tailSeconds,
        target: args.target ?? 'local cluster',
        cluster: r.cluster?.settings ?? null,
      },
      connected: r.connect.connected,
      connectSeconds: r.connect.seconds,
      achieved: {
        leftPerMinute: r.left.length / minutes,
        joinedPerMinute: r.joined / minutes,
        connectsPerMinute: d.connects / minutes,
        dropsPerMinute: d.drops / minutes,
        leftGraceful: r.left.filter((l) => l.mode === 'graceful').length,
        leftSilent: r.left.filter((l) => l.mode === 'silent').length,
        joined: r.joined,
      },
      offline: r.offline,
      aliveOnline: r.aliveOnline,
      falseOfflineTransitions: r.falseOffline,
      history: r.history,
      window: r.window,
      timeline: r.timeline.series,
    };
    return {
      report,
      markdown: formatChurnMarkdown(report),
      agents: args.agents,
      charts: {
        ...simCharts(
          [{ label: 'churn', timeline: report.timeline }],
          [{ label: 'reply latency', latency: r.window.latency }],
          'Reply latency during the churn (heartbeat -> ServerToAgent)',
        ),
        ...(r.offline === null
          ? {}
          : {
              offline: latencyChart({
                title: 'Leave -> offline in Postgres (ms)',
                series: [
                  { label: 'graceful', percentiles: r.offline.graceful.toOffline.percentiles },
                  { label: 'silent', percentiles: r.offline.silent.toOffline.percentiles },
                ].filter((s) => s.percentiles.length > 0),
              }),
            }),
      },
      outDir: args.outDir,
      json: args.json,
    };
  } finally {
    await context.cleanup.run();
  }
}

export const churnCli: ScenarioCli = {
  name: 'churn',
  summary:
    'steady fleet while agents leave (goodbye / silent) and fresh ones join; offline + history in Postgres',
  usage: `${SIM_USAGE}
  --churn-per-minute N        agents leaving (and as many joining) per minute (default 10 % of --agents)
  (defaults: 10000 agents, 2 gateways, mix, heartbeat 10 s, 120 s, offline timeout 30 s)`,
  run,
};
