import { parseArgs } from 'node:util';
import { oneOf, positiveInteger, positiveNumber, websocketUrl } from './arg-values.js';
import { ArgsError } from './args-error.js';
import { serverNodeArgs } from './targets/server-node-args.js';

export { ArgsError } from './args-error.js';

/** Scenarios parsed here; `connect` is the older name of `ws-vs-baseline`. */
export const SCENARIOS = ['ws-vs-baseline', 'connect', 'heartbeat-throughput'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const TARGET_KINDS = ['gateway', 'baseline'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/**
 * Connections one server or generator process may hold: the machines' hard open-file limit is
 * 20,000 per process, and uWS spins in its accept loop when it runs out of descriptors.
 */
export const MAX_CONNECTIONS_PER_PROCESS = 19_000;

/** Throws unless `gateways` server processes can hold `agents` connections (open-file limit). */
export function checkAgentsPerServer(agents: number, gateways: number): void {
  if (agents / gateways <= MAX_CONNECTIONS_PER_PROCESS) return;
  throw new ArgsError(
    `--agents ${agents} over --gateways ${gateways} exceeds ${MAX_CONNECTIONS_PER_PROCESS} connections per ` +
      `server process (open-file limit); use --gateways ${Math.ceil(agents / MAX_CONNECTIONS_PER_PROCESS)} or more`,
  );
}

/** The load generator's options (`--dial-concurrency`, `--agents-per-address`, `--agents-per-generator`). */
export function generatorOptions(values: {
  'dial-concurrency'?: string;
  'agents-per-address'?: string;
  'agents-per-generator'?: string;
}): { dialConcurrency: number; agentsPerSourceAddress: number; agentsPerGenerator: number } {
  return {
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
  };
}

/** Validated command line of the bench CLI. */
export interface BenchOptions {
  scenario: ScenarioName;
  agents: number;
  gateways: number;
  /** Length of the measured heartbeat phase (connect: the rounds; heartbeat-throughput: the steady phase). */
  durationSeconds: number;
  /** connect: heartbeats per agent during the phase. */
  rounds: number;
  /** heartbeat-throughput: each agent's heartbeat interval (±10 % jitter). */
  heartbeatSeconds: number;
  /** heartbeat-throughput: worker processes. */
  workers: number;
  /** heartbeat-throughput: least heartbeating before the steady phase (it also waits for the connect events). */
  warmupSeconds: number;
  /** heartbeat-throughput: length of each raw Postgres baseline. */
  baselineSeconds: number;
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

/** Defaults that differ between scenarios. */
const SCENARIO_DEFAULTS: Record<ScenarioName, { agents: number; gateways: number; duration: number }> = {
  'ws-vs-baseline': { agents: 10_000, gateways: 1, duration: 15 },
  connect: { agents: 10_000, gateways: 1, duration: 15 },
  'heartbeat-throughput': { agents: 24_000, gateways: 2, duration: 30 },
};

/** Options that only one scenario reads; giving them to another is a usage error. */
const CONNECT_ONLY = ['rounds', 'target', 'token', 'only'] as const;
const SCENARIO_ONLY: Record<'connect' | 'heartbeat-throughput', readonly string[]> = {
  connect: CONNECT_ONLY,
  'heartbeat-throughput': ['heartbeat', 'workers', 'warmup', 'baseline-duration'],
};

/** The options every scenario parsed here accepts. */
export const COMMON_USAGE = `common options:
  --agents N                  simulated agents (default 10000; heartbeat-throughput 24000)
  --gateways G                gateway (and baseline) processes sharing one port (default 1; heartbeat-throughput 2)
  --duration S                seconds of the measured heartbeat phase (default 15; heartbeat-throughput 30)
  --out DIR                   directory for the JSON and Markdown results (default bench/results)
  --dial-concurrency N        WebSocket handshakes in flight at once (default 200)
  --agents-per-address N      agents per loopback source address 127.0.0.2, .3, ... (default 5000)
  --agents-per-generator N    agents per load-generator process before sharding (default ${MAX_CONNECTIONS_PER_PROCESS})
  --json                      print the JSON result instead of the Markdown summary
  -h, --help                  show this help`;

/** The options of ws-vs-baseline (and connect). */
export const CONNECT_USAGE = `ws-vs-baseline (connect):
  --rounds R                  heartbeats per agent during the phase (default 3)
  --target URL                load a running gateway (ws://host:port/v1/opamp) instead of starting one
  --token T                   bearer token for --target
  --only gateway|baseline     run only one of the two measurements`;

/** The options of heartbeat-throughput. */
export const HEARTBEAT_USAGE = `heartbeat-throughput:
  --heartbeat S               heartbeat interval of every agent in whole seconds, ±10% jitter (default 1)
  --workers W                 worker processes (default 1)
  --warmup S                  least seconds of heartbeats before the steady phase (default 5)
  --baseline-duration S       seconds of each raw Postgres update baseline (default 10)`;

export const USAGE = `usage: pnpm bench <scenario> [options]

scenarios:
  ws-vs-baseline              connect N agents to a gateway, heartbeat, then the same against a raw uWS echo baseline (alias: connect)
  heartbeat-throughput        N agents heartbeating through gateways -> Redis -> workers -> Postgres, then a raw Postgres baseline

${COMMON_USAGE}

${CONNECT_USAGE}

${HEARTBEAT_USAGE}`;

const OPTIONS = {
  agents: { type: 'string' },
  gateways: { type: 'string' },
  duration: { type: 'string' },
  rounds: { type: 'string' },
  heartbeat: { type: 'string' },
  workers: { type: 'string' },
  warmup: { type: 'string' },
  'baseline-duration': { type: 'string' },
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

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function checkScenarioOptions(scenario: ScenarioName, values: Values): void {
  const family = scenario === 'ws-vs-baseline' ? 'connect' : scenario;
  for (const [owner, names] of Object.entries(SCENARIO_ONLY)) {
    if (owner === family) continue;
    const given = names.find((name) => values[name as keyof Values] !== undefined);
    if (given !== undefined) throw new ArgsError(`--${given} only applies to the ${owner} scenario`);
  }
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
  const scenario = oneOf('scenario', scenarioArg, SCENARIOS) ?? 'ws-vs-baseline';
  checkScenarioOptions(scenario, values);
  const defaults = SCENARIO_DEFAULTS[scenario];

  const agents = positiveInteger('agents', values.agents, defaults.agents, 1_000_000);
  const gateways = positiveInteger('gateways', values.gateways, defaults.gateways, 64);
  const target = websocketUrl(values.target);
  if (target === null) checkAgentsPerServer(agents, gateways);
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
    durationSeconds: positiveNumber('duration', values.duration, defaults.duration),
    rounds: positiveInteger('rounds', values.rounds, 3, 1000),
    heartbeatSeconds: positiveInteger('heartbeat', values.heartbeat, 1, 3600),
    workers: positiveInteger('workers', values.workers, 1, 64),
    warmupSeconds: positiveNumber('warmup', values.warmup, 5),
    baselineSeconds: positiveNumber('baseline-duration', values['baseline-duration'], 10),
    outDir: values.out ?? null,
    target,
    token: values.token ?? null,
    only: oneOf('only', values.only, TARGET_KINDS),
    ...generatorOptions(values),
    json: values.json === true,
    help,
  };
}

/**
 * The command line as a reproducible shell command, with the value of `--token` masked. The server
 * processes' extra Node.js options (`BENCH_SERVER_NODE_ARGS`, see serverNodeArgs) change what is
 * measured, so when set they lead the command as its environment.
 */
export function commandLine(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const masked = argv.map((arg, i) => {
    if (arg.startsWith('--token=')) return '--token=REDACTED';
    if (argv[i - 1] === '--token') return 'REDACTED';
    return arg;
  });
  const quote = (arg: string): string =>
    /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
  const nodeArgs = serverNodeArgs(env);
  const prefix = nodeArgs.length === 0 ? [] : [`BENCH_SERVER_NODE_ARGS=${quote(nodeArgs.join(' '))}`];
  return [...prefix, 'pnpm', 'bench', ...masked.map(quote)].join(' ');
}
