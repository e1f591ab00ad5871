/**
 * Options shared by the simulator scenarios (steady-state, churn, rolling-restart), parsed with
 * node:util parseArgs; each scenario adds its own. Usage errors throw ArgsError before anything
 * starts.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { oneOf, positiveInteger, positiveNumber, websocketUrl } from '../arg-values.js';
import { ArgsError } from '../args-error.js';
import { SIM_DEFAULTS, type SimTransport, type SimulatorOptions } from './simulator.js';

export interface SimScenarioDefaults {
  agents: number;
  gateways: number;
  transport: SimTransport;
  heartbeatSeconds: number;
  durationSeconds: number;
  offlineTimeoutSeconds: number;
}

export interface SimScenarioArgs {
  agents: number;
  gateways: number;
  heartbeatSeconds: number;
  durationSeconds: number;
  offlineTimeoutSeconds: number;
  target: string | null;
  /** The simulator's settings; `url` is filled in once the target is known. */
  sim: Omit<SimulatorOptions, 'url' | 'echo'>;
  outDir: string | null;
  json: boolean;
  /** The scenario's own options, as parsed strings. */
  extra: Record<string, string | boolean | undefined>;
}

export const SIM_USAGE = `  --agents N                  simulated agents
  --gateways G                gateway processes sharing the OpAMP port
  --transport ws|http|mix     agent transport (mix: --http-share of them on plain HTTP, default 0.5)
  --heartbeat S               heartbeat interval offered by the gateways and used by the agents
  --duration S                measured phase
  --offline-timeout S         sweeper OFFLINE_TIMEOUT_SECONDS
  --backoff-base MS, --backoff-cap MS   reconnect backoff (first retry immediate, then full jitter)
  --agents-per-process N      simulator shards into child processes above this (default 19000)
  --agents-per-address N      agents per loopback source address (default 5000)
  --sim-processes N           force N simulator child processes
  --dial-concurrency N        agents dialing at once while connecting (default 500)
  --target URL                load a running gateway (ws://...) instead of starting a cluster
  --token T                   bearer token for --target
  --out DIR, --json           result directory; print JSON instead of Markdown`;

const SHARED = {
  agents: { type: 'string' },
  gateways: { type: 'string' },
  transport: { type: 'string' },
  'http-share': { type: 'string' },
  heartbeat: { type: 'string' },
  duration: { type: 'string' },
  'offline-timeout': { type: 'string' },
  'backoff-base': { type: 'string' },
  'backoff-cap': { type: 'string' },
  'agents-per-process': { type: 'string' },
  'agents-per-address': { type: 'string' },
  'sim-processes': { type: 'string' },
  'dial-concurrency': { type: 'string' },
  target: { type: 'string' },
  token: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
} as const;

type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

/** Parses `argv` (scenario name first) with the shared options plus `extra`. */
export function parseSimScenarioArgs(
  argv: readonly string[],
  defaults: SimScenarioDefaults,
  extra: OptionSpec = {},
): SimScenarioArgs {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { ...SHARED, ...extra },
    });
  } catch (error) {
    throw new ArgsError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new ArgsError(`unexpected argument "${positionals[1]}"`);
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const agents = positiveInteger('agents', str('agents'), defaults.agents, 200_000);
  const perProcess = positiveInteger(
    'agents-per-process',
    str('agents-per-process'),
    SIM_DEFAULTS.agentsPerProcess,
    19_500,
  );
  const perAddress = positiveInteger(
    'agents-per-address',
    str('agents-per-address'),
    SIM_DEFAULTS.agentsPerAddress,
    12_000,
  );
  const httpShare = positiveNumber('http-share', str('http-share'), SIM_DEFAULTS.httpShare);
  if (httpShare > 1) throw new ArgsError(`--http-share must be within 0..1, got ${httpShare}`);
  const baseMs = positiveNumber('backoff-base', str('backoff-base'), 500);
  const capMs = positiveNumber('backoff-cap', str('backoff-cap'), 30_000);
  if (capMs < baseMs) throw new ArgsError('--backoff-cap must be >= --backoff-base');
  const heartbeatSeconds = positiveInteger('heartbeat', str('heartbeat'), defaults.heartbeatSeconds, 86_400);
  const target = websocketUrl(str('target'));
  if (str('token') !== undefined && target === null)
    throw new ArgsError('--token only applies with --target');
  return {
    agents,
    gateways: positiveInteger('gateways', str('gateways'), defaults.gateways, 64),
    heartbeatSeconds,
    durationSeconds: positiveInteger('duration', str('duration'), defaults.durationSeconds, 86_400),
    offlineTimeoutSeconds: positiveInteger(
      'offline-timeout',
      str('offline-timeout'),
      defaults.offlineTimeoutSeconds,
      86_400,
    ),
    target,
    sim: {
      token: str('token') ?? null,
      agents,
      transport: oneOf('transport', str('transport'), ['ws', 'http', 'mix'] as const) ?? defaults.transport,
      httpShare,
      heartbeatMs: heartbeatSeconds * 1000,
      jitter: SIM_DEFAULTS.jitter,
      backoff: { baseMs, capMs },
      agentsPerAddress: perAddress,
      agentsPerProcess: perProcess,
      processes:
        str('sim-processes') === undefined
          ? null
          : positiveInteger('sim-processes', str('sim-processes'), 1, 64),
      dialConcurrency: positiveInteger(
        'dial-concurrency',
        str('dial-concurrency'),
        SIM_DEFAULTS.dialConcurrency,
        100_000,
      ),
      sampleCapacity: SIM_DEFAULTS.sampleCapacity,
    },
    outDir: str('out') === undefined ? null : resolve(str('out') as string),
    json: values.json === true,
    extra: Object.fromEntries(Object.keys(extra).map((k) => [k, values[k]])),
  };
}

/** The Simulator options for `url` (`echo`: against a raw echo server, WebSocket only). */
export function simOptionsFor(args: SimScenarioArgs, url: string, echo = false): SimulatorOptions {
  return echo ? { ...args.sim, url, echo, transport: 'ws', token: null } : { ...args.sim, url, echo };
}
