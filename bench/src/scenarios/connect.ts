import { type BenchOptions, MAX_CONNECTIONS_PER_PROCESS } from '../args.js';
import { buildRatios, isComplete } from '../report/build.js';
import { collectEnvironment } from '../report/environment.js';
import { CONNECT_REPORT_SCHEMA, type ConnectReport, type TargetRun } from '../report/types.js';
import { startBaseline } from '../targets/baseline-target.js';
import { externalGateway, startGateways } from '../targets/gateway-target.js';
import type { ServerTarget } from '../targets/server-target.js';
import { type MeasureOptions, measureTarget } from './measure-target.js';

export const OPAMP_PATH = '/v1/opamp';

/**
 * WebSocket limits given to both the gateway and the baseline, so both servers do the same
 * transport work: the gateway's defaults (4 MiB messages, 120 s idle timeout with automatic pings)
 * and its fixed 1 MiB send buffer per socket (closed past it).
 */
export const SERVER_LIMITS = {
  maxMessageBytes: 4 * 1024 * 1024,
  idleTimeoutSeconds: 120,
  maxBackpressureBytes: 1024 * 1024,
} as const;

export interface ConnectScenarioContext {
  /** The command line that reproduces the run (without secrets). */
  command: string;
  redisUrl: string;
  progress: (line: string) => void;
  now: () => Date;
}

async function withServer(start: () => Promise<ServerTarget>, options: MeasureOptions): Promise<TargetRun> {
  const server = await start();
  try {
    return await measureTarget(server, options);
  } finally {
    await server.stop();
  }
}

/**
 * The `connect` scenario: N agents against the gateway, then the same N agents and frames against a
 * raw uWS echo server on the same box, one after the other (never both at once).
 */
export async function runConnectScenario(
  options: BenchOptions,
  context: ConnectScenarioContext,
): Promise<ConnectReport> {
  const startedAt = context.now();
  const environment = await collectEnvironment(startedAt);
  const measure: MeasureOptions = {
    agents: options.agents,
    durationSeconds: options.durationSeconds,
    rounds: options.rounds,
    dialConcurrency: options.dialConcurrency,
    agentsPerSourceAddress: options.agentsPerSourceAddress,
    agentsPerGenerator: options.agentsPerGenerator,
    progress: context.progress,
  };
  const serverProcesses =
    options.target === null ? options.gateways : Math.ceil(options.agents / MAX_CONNECTIONS_PER_PROCESS);

  let gateway: TargetRun | null = null;
  if (options.only !== 'baseline') {
    gateway = await withServer(
      () =>
        options.target === null
          ? startGateways({
              processes: options.gateways,
              redisUrl: context.redisUrl,
              path: OPAMP_PATH,
              maxMessageBytes: SERVER_LIMITS.maxMessageBytes,
              idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
            })
          : Promise.resolve(externalGateway(options.target, options.token)),
      measure,
    );
  }
  let baseline: TargetRun | null = null;
  if (options.only !== 'gateway') {
    baseline = await withServer(
      () =>
        startBaseline({
          processes: serverProcesses,
          path: OPAMP_PATH,
          maxPayloadLength: SERVER_LIMITS.maxMessageBytes,
          idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
          maxBackpressureBytes: SERVER_LIMITS.maxBackpressureBytes,
        }),
      measure,
    );
  }

  const runs = [gateway, baseline].filter((r): r is TargetRun => r !== null);
  return {
    schema: CONNECT_REPORT_SCHEMA,
    scenario: options.scenario === 'connect' ? 'connect' : 'ws-vs-baseline',
    command: context.command,
    startedAt: startedAt.toISOString(),
    finishedAt: context.now().toISOString(),
    options: {
      agents: options.agents,
      gateways: options.gateways,
      durationSeconds: options.durationSeconds,
      rounds: options.rounds,
      dialConcurrency: options.dialConcurrency,
      agentsPerSourceAddress: options.agentsPerSourceAddress,
      agentsPerGenerator: options.agentsPerGenerator,
      target: options.target,
    },
    environment,
    gateway,
    baseline,
    ratios: buildRatios(gateway, baseline),
    complete: runs.every(isComplete),
  };
}
