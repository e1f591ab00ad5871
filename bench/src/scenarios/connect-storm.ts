/**
 * The `connect-storm` scenario (`connectStormCli`): N agents dial at once against gateways running
 * with the product's default admission settings and retry until connected (connect-storm-fleet.ts);
 * then the same storm against raw uWS echo servers (no admission control). Never both at once.
 */
import { resolve } from 'node:path';
import { oneOf, positiveInteger, positiveNumber } from '../arg-values.js';
import { MAX_CONNECTIONS_PER_PROCESS, TARGET_KINDS } from '../args.js';
import { ArgsError } from '../args-error.js';
import { parseScenarioArgs, SHARED_USAGE } from '../args-scenario.js';
import { startProgress } from '../load/progress.js';
import { cpuDelta, readCpuOf } from '../metrics/cpu-groups.js';
import { readOpenFileLimits } from '../metrics/proc.js';
import { startTimeline } from '../metrics/timeline.js';
import { collectEnvironment } from '../report/environment.js';
import { startBaseline } from '../targets/baseline-target.js';
import { startGateways } from '../targets/gateway-target.js';
import type { ServerTarget } from '../targets/server-target.js';
import { OPAMP_PATH, SERVER_LIMITS } from './connect.js';
import { RETRY_AFTER_JITTER, runStorm } from './connect-storm-fleet.js';
import {
  buildStormRun,
  formatStormMarkdown,
  isStormComplete,
  STORM_REPORT_SCHEMA,
  type StormReport,
  type StormRun,
  stormCharts,
  stormRatios,
} from './connect-storm-report.js';
import type { ScenarioCli, ScenarioContext } from './registry.js';

const DESCRIPTOR_RESERVE = 200;

export interface StormOptions {
  agents: number;
  gateways: number;
  dialConcurrency: number;
  agentsPerSourceAddress: number;
  timeoutSeconds: number;
  only: 'gateway' | 'baseline' | null;
}

const OPTIONS = {
  agents: { type: 'string' },
  gateways: { type: 'string' },
  'dial-concurrency': { type: 'string' },
  'agents-per-address': { type: 'string' },
  timeout: { type: 'string' },
  only: { type: 'string' },
} as const;

const USAGE = `  --agents N                  agents dialing at once (default 10000, at most ${MAX_CONNECTIONS_PER_PROCESS}: one generator process)
  --gateways G                gateway (and echo) processes sharing one port (default 1)
  --dial-concurrency N        dials in flight at most (default: all agents)
  --agents-per-address N      agents per loopback source address 127.0.0.2, .3, ... (default 2000; the
                              baseline storm dials from the next addresses)
  --timeout S                 agents not connected after S seconds give up (default 180)
  --only gateway|baseline     run only one of the two storms
${SHARED_USAGE}`;

async function stormAgainst(
  server: ServerTarget,
  options: StormOptions,
  context: ScenarioContext,
  addressOffset: number,
): Promise<StormRun> {
  const before = await readCpuOf(server.pids);
  const started = performance.now();
  const storm = runStorm({
    url: server.url,
    agents: options.agents,
    dialConcurrency: options.dialConcurrency,
    agentsPerSourceAddress: options.agentsPerSourceAddress,
    addressOffset,
    replyCheck: server.replyCheck,
    deadlineMs: options.timeoutSeconds * 1000,
  });
  const stopProgress = startProgress(`${server.kind} storm`, storm.counters, context.progress);
  const timeline = startTimeline(storm.counters);
  try {
    const outcome = await storm.done;
    const wallSeconds = (performance.now() - started) / 1000;
    const cpu = cpuDelta(before, await readCpuOf(server.pids));
    return buildStormRun({
      target: server.kind,
      settings: { ...server.settings },
      outcome,
      wallSeconds,
      server: cpu,
      timeline: timeline.stop(),
    });
  } finally {
    timeline.stop();
    stopProgress();
    await storm.close();
  }
}

export async function runConnectStorm(options: StormOptions, context: ScenarioContext): Promise<StormReport> {
  const startedAt = new Date();
  const environment = await collectEnvironment(startedAt);
  const { soft } = await readOpenFileLimits();
  if (options.agents + DESCRIPTOR_RESERVE > soft) {
    throw new ArgsError(
      `--agents ${options.agents} needs an open-file limit above ${options.agents + DESCRIPTOR_RESERVE} (ulimit -n is ${soft})`,
    );
  }
  let storms = 0;
  const storm = async (start: () => Promise<ServerTarget>): Promise<StormRun> => {
    const server = context.cleanup.track(await start(), (s) => s.stop());
    // Each storm dials from fresh source addresses (its own block of agent indices).
    const addressOffset =
      storms++ * Math.ceil(options.agents / options.agentsPerSourceAddress) * options.agentsPerSourceAddress;
    try {
      return await stormAgainst(server, options, context, addressOffset);
    } finally {
      await server.stop();
    }
  };
  const gateway =
    options.only === 'baseline'
      ? null
      : await storm(() =>
          startGateways({
            processes: options.gateways,
            redisUrl: context.redisUrl,
            path: OPAMP_PATH,
            maxMessageBytes: SERVER_LIMITS.maxMessageBytes,
            idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
            admission: 'product-defaults',
          }),
        );
  const baseline =
    options.only === 'gateway'
      ? null
      : await storm(() =>
          startBaseline({
            processes: options.gateways,
            path: OPAMP_PATH,
            maxPayloadLength: SERVER_LIMITS.maxMessageBytes,
            idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
            maxBackpressureBytes: SERVER_LIMITS.maxBackpressureBytes,
          }),
        );
  const runs = [gateway, baseline].filter((r): r is StormRun => r !== null);
  return {
    schema: STORM_REPORT_SCHEMA,
    scenario: 'connect-storm',
    command: context.command,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: {
      agents: options.agents,
      gateways: options.gateways,
      dialConcurrency: options.dialConcurrency,
      agentsPerSourceAddress: options.agentsPerSourceAddress,
      timeoutSeconds: options.timeoutSeconds,
      retryAfterJitter: RETRY_AFTER_JITTER,
    },
    environment,
    gateway,
    baseline,
    ratios: stormRatios(gateway, baseline),
    complete: runs.every(isStormComplete),
  };
}

export const connectStormCli: ScenarioCli = {
  name: 'connect-storm',
  summary: 'N agents dial at once against default admission control, retrying until connected; then raw uWS',
  usage: USAGE,
  async run(argv, context) {
    const v = parseScenarioArgs('connect-storm', argv, OPTIONS);
    const agents = positiveInteger('agents', v.agents, 10_000, MAX_CONNECTIONS_PER_PROCESS);
    const gateways = positiveInteger('gateways', v.gateways, 1, 64);
    const options: StormOptions = {
      agents,
      gateways,
      dialConcurrency: positiveInteger(
        'dial-concurrency',
        v['dial-concurrency'],
        agents,
        MAX_CONNECTIONS_PER_PROCESS,
      ),
      agentsPerSourceAddress: positiveInteger('agents-per-address', v['agents-per-address'], 2000, 20_000),
      timeoutSeconds: positiveNumber('timeout', v.timeout, 180),
      only: oneOf('only', v.only, TARGET_KINDS),
    };
    const report = await runConnectStorm(options, context).finally(() => context.cleanup.run());
    return {
      report,
      markdown: formatStormMarkdown(report),
      charts: stormCharts(report),
      agents,
      outDir: v.out === undefined ? null : resolve(v.out),
      json: v.json,
    };
  },
};
