/** Options of `pnpm bench scale` (parseScaleArgs) and their usage text (SCALE_USAGE). */
import { parseArgs } from 'node:util';
import { positiveInteger } from '../arg-values.js';
import { checkAgentsPerServer, generatorOptions, MAX_CONNECTIONS_PER_PROCESS } from '../args.js';
import { ArgsError } from '../args-error.js';

/** Agents one gateway process is given by default: below the per-process socket ceiling, with room. */
export const AGENTS_PER_GATEWAY = 18_000;

export interface ScaleOptions {
  agents: number;
  gateways: number;
  /** Worker processes writing the event batches and the heartbeat flush. */
  workers: number;
  heartbeatSeconds: number;
  durationSeconds: number;
  /** The sweeper's OFFLINE_TIMEOUT_SECONDS. */
  offlineTimeoutSeconds: number;
  /** Handshakes in flight over all generator processes (split evenly among them). */
  dialConcurrency: number;
  agentsPerSourceAddress: number;
  agentsPerGenerator: number;
  /** Measure the raw uWS echo baseline after the gateways (default true). */
  baseline: boolean;
  out: string | null;
  json: boolean;
}

export const SCALE_USAGE = `  --agents N                  WebSocket agents (default 100000)
  --gateways G                gateway processes sharing one port (default ceil(N / ${AGENTS_PER_GATEWAY}))
  --workers W                 worker processes (default 1)
  --heartbeat S               heartbeat interval of every agent, ±10 % (default 30)
  --duration S                heartbeat phase (default 2 intervals)
  --offline-timeout S         the sweeper's offline timeout (default max(60, 3 intervals))
  --dial-concurrency N        handshakes in flight, split over the generator processes (default 200)
  --agents-per-address N      agents per loopback source address (default 5000)
  --agents-per-generator N    agents per generator process (default ${MAX_CONNECTIONS_PER_PROCESS})
  --no-baseline               skip the raw uWS echo baseline
  --out DIR --json            result directory; print JSON instead of Markdown`;

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      agents: { type: 'string' },
      gateways: { type: 'string' },
      workers: { type: 'string' },
      heartbeat: { type: 'string' },
      duration: { type: 'string' },
      'offline-timeout': { type: 'string' },
      'dial-concurrency': { type: 'string' },
      'agents-per-address': { type: 'string' },
      'agents-per-generator': { type: 'string' },
      'no-baseline': { type: 'boolean' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
}

/** Parses `scale [options]`; throws ArgsError on anything it cannot run. */
export function parseScaleArgs(argv: readonly string[]): ScaleOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new ArgsError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const extra = positionals.filter((p) => p !== 'scale');
  if (extra.length > 0) throw new ArgsError(`unexpected argument "${extra[0]}"`);
  const agents = positiveInteger('agents', values.agents, 100_000, 1_000_000);
  const gateways = positiveInteger('gateways', values.gateways, Math.ceil(agents / AGENTS_PER_GATEWAY), 64);
  checkAgentsPerServer(agents, gateways);
  const heartbeatSeconds = positiveInteger('heartbeat', values.heartbeat, 30, 3600);
  return {
    agents,
    gateways,
    workers: positiveInteger('workers', values.workers, 1, 16),
    heartbeatSeconds,
    durationSeconds: positiveInteger('duration', values.duration, 2 * heartbeatSeconds, 86_400),
    offlineTimeoutSeconds: positiveInteger(
      'offline-timeout',
      values['offline-timeout'],
      Math.max(60, 3 * heartbeatSeconds),
      86_400,
    ),
    ...generatorOptions(values),
    baseline: values['no-baseline'] !== true,
    out: values.out ?? null,
    json: values.json === true,
  };
}
