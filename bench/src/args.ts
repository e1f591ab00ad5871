import { parseArgs } from 'node:util';

export const SCENARIOS = ['connect'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const TARGET_KINDS = ['gateway', 'baseline'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/**
 * Connections one server or generator process may hold: the machines' hard open-file limit is
 * 20,000 per process, and uWS spins in its accept loop when it runs out of descriptors.
 */
export const MAX_CONNECTIONS_PER_PROCESS = 19_000;

/** Validated command line of the bench CLI. */
export interface BenchOptions {
  scenario: ScenarioName;
  agents: number;
  gateways: number;
  /** Length of the heartbeat phase; every agent sends one heartbeat per round, spread over it. */
  durationSeconds: number;
  rounds: number;
  /** Output directory; null means the default `bench/results/`. */
  outDir: string | null;
  /** An already running gateway to load instead of starting one; null starts local gateways. */
  target: string | null;
  /** Bearer token sent on the upgrade request to `target`. Never written to reports. */
  token: string | null;
  /** Run only one of the two measurements; null runs both. */
  only: TargetKind | null;
  dialConcurrency: number;
  agentsPerSourceAddress: number;
  agentsPerGenerator: number;
  json: boolean;
  help: boolean;
}

export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

export const USAGE = `usage: pnpm bench <scenario> [options]

scenarios:
  connect                     connect N agents to a gateway, heartbeat, then the same against a raw uWS echo baseline

options:
  --agents N                  simulated agents (default 10000)
  --gateways G                gateway (and baseline) processes sharing one port (default 1)
  --duration S                seconds of the heartbeat phase (default 15)
  --rounds R                  heartbeats per agent during that phase (default 3)
  --out DIR                   directory for the JSON and Markdown results (default bench/results)
  --target URL                load a running gateway (ws://host:port/v1/opamp) instead of starting one
  --token T                   bearer token for --target
  --only gateway|baseline     run only one of the two measurements
  --dial-concurrency N        WebSocket handshakes in flight at once (default 200)
  --agents-per-address N      agents per loopback source address 127.0.0.2, .3, ... (default 5000)
  --agents-per-generator N    agents per load-generator process before sharding (default ${MAX_CONNECTIONS_PER_PROCESS})
  --json                      print the JSON result instead of the Markdown summary
  -h, --help                  show this help`;

const OPTIONS = {
  agents: { type: 'string' },
  gateways: { type: 'string' },
  duration: { type: 'string' },
  rounds: { type: 'string' },
  out: { type: 'string' },
  target: { type: 'string' },
  token: { type: 'string' },
  only: { type: 'string' },
  'dial-concurrency': { type: 'string' },
  'agents-per-address': { type: 'string' },
  'agents-per-generator': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveInteger(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ArgsError(`--${name} must be a positive integer, got "${raw}"`);
  const value = Number(raw);
  if (value < 1 || value > max) throw new ArgsError(`--${name} must be within 1..${max}, got ${value}`);
  return value;
}

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new ArgsError(`--${name} must be a positive number, got "${raw}"`);
  }
  return value;
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | null {
  if (raw === undefined) return null;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ArgsError(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function websocketUrl(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ArgsError(`--target must be a URL like ws://127.0.0.1:4320/v1/opamp, got "${raw}"`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ArgsError(`--target must use ws:// or wss://, got "${url.protocol}//"`);
  }
  return url.toString();
}

/** Parses the CLI arguments (without `node` and the script). Throws ArgsError with a readable message. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ArgsError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const help = values.help === true;
  const [scenarioArg, ...extra] = positionals;
  if (extra.length > 0) throw new ArgsError(`unexpected argument "${extra[0]}"`);
  if (scenarioArg === undefined && !help)
    throw new ArgsError(`missing scenario (one of ${SCENARIOS.join(', ')})`);
  const scenario = oneOf('scenario', scenarioArg, SCENARIOS) ?? 'connect';

  const agents = positiveInteger('agents', values.agents, 10_000, 1_000_000);
  const gateways = positiveInteger('gateways', values.gateways, 1, 64);
  const target = websocketUrl(values.target);
  if (target === null && agents / gateways > MAX_CONNECTIONS_PER_PROCESS) {
    const needed = Math.ceil(agents / MAX_CONNECTIONS_PER_PROCESS);
    throw new ArgsError(
      `--agents ${agents} over --gateways ${gateways} exceeds ${MAX_CONNECTIONS_PER_PROCESS} connections per ` +
        `server process (open-file limit); use --gateways ${needed} or more`,
    );
  }
  if (values.token !== undefined && target === null) {
    throw new ArgsError('--token only applies with --target (local gateways run without auth)');
  }
  if (target !== null && values.gateways !== undefined) {
    throw new ArgsError('--gateways only applies to locally started gateways, not with --target');
  }

  return {
    scenario,
    agents,
    gateways,
    durationSeconds: positiveNumber('duration', values.duration, 15),
    rounds: positiveInteger('rounds', values.rounds, 3, 1000),
    outDir: values.out ?? null,
    target,
    token: values.token ?? null,
    only: oneOf('only', values.only, TARGET_KINDS),
    dialConcurrency: positiveInteger('dial-concurrency', values['dial-concurrency'], 200, 10_000),
    agentsPerSourceAddress: positiveInteger(
      'agents-per-address',
      values['agents-per-address'],
      5_000,
      20_000,
    ),
    agentsPerGenerator: positiveInteger(
      'agents-per-generator',
      values['agents-per-generator'],
      MAX_CONNECTIONS_PER_PROCESS,
      MAX_CONNECTIONS_PER_PROCESS,
    ),
    json: values.json === true,
    help,
  };
}

/** The command line as a reproducible shell command, with the value of `--token` masked. */
export function commandLine(argv: readonly string[]): string {
  const masked = argv.map((arg, i) => {
    if (arg.startsWith('--token=')) return '--token=REDACTED';
    if (argv[i - 1] === '--token') return 'REDACTED';
    return arg;
  });
  const quote = (arg: string): string =>
    /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
  return ['pnpm', 'bench', ...masked.map(quote)].join(' ');
}
