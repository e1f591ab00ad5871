import { parseArgs } from 'node:util';
import { oneOf, positiveInteger } from '../arg-values.js';
import { ArgsError } from '../args-error.js';
import { DEFAULT_OFFLINE_MATRIX, type OfflineCase } from './offline-detection.js';

export const EXTRA_SCENARIOS = ['offline-detection', 'api-latency'] as const;
export type ExtraScenario = (typeof EXTRA_SCENARIOS)[number];

export const EXTRA_USAGE = `offline-detection:            agents heartbeat, then are all lost at once; time until offline in Postgres
  --profile fast|default      fast: heartbeat 1 s, timeout 3 s; default: 30 s / 60 s
  --agents N                  agents per case
  --mode silent|graceful      silent: stop sending, sockets stay open; graceful: agent_disconnect
  (no option: the matrix fast silent+graceful x 1, 1000, 10000 agents and default silent 1000)

api-latency:                  REST reads against a seeded database, then the same reads as raw SQL
  --agents N                  seeded agents (default 50000)
  --concurrency C             requests in flight; also measured at 1, 4 and 16 below it (default 32)
  --duration S                seconds per endpoint and side, shared by the concurrencies (default 20)`;

export type ExtraOptions =
  | { scenario: 'offline-detection'; cases: OfflineCase[]; agents: number; out: string | null; json: boolean }
  | {
      scenario: 'api-latency';
      agents: number;
      concurrency: number;
      durationSeconds: number;
      out: string | null;
      json: boolean;
    };

export function isExtraScenario(name: string | undefined): name is ExtraScenario {
  return EXTRA_SCENARIOS.includes(name as ExtraScenario);
}

/** Parses the arguments of the offline-detection and api-latency scenarios. */
export function parseExtraArgs(argv: readonly string[]): ExtraOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new ArgsError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [scenario, ...extra] = positionals;
  if (extra.length > 0) throw new ArgsError(`unexpected argument "${extra[0]}"`);
  const out = values.out ?? null;
  const json = values.json === true;
  if (scenario === 'api-latency') {
    for (const name of ['profile', 'mode'] as const) {
      if (values[name] !== undefined) throw new ArgsError(`--${name} only applies to offline-detection`);
    }
    return {
      scenario,
      agents: positiveInteger('agents', values.agents, 50_000, 5_000_000),
      concurrency: positiveInteger('concurrency', values.concurrency, 32, 1024),
      durationSeconds: positiveInteger('duration', values.duration, 20, 3600),
      out,
      json,
    };
  }
  for (const name of ['concurrency', 'duration'] as const) {
    if (values[name] !== undefined) throw new ArgsError(`--${name} only applies to api-latency`);
  }
  const profile = oneOf('profile', values.profile, ['fast', 'default'] as const);
  const mode = oneOf('mode', values.mode, ['silent', 'graceful'] as const);
  const agents = values.agents === undefined ? null : positiveInteger('agents', values.agents, 1, 19_000);
  const cases =
    profile === null && mode === null && agents === null
      ? [...DEFAULT_OFFLINE_MATRIX]
      : (mode === null ? (['silent', 'graceful'] as const) : [mode]).map((m) => ({
          profile: profile ?? 'fast',
          mode: m,
          agents: agents ?? 1000,
        }));
  return { scenario: 'offline-detection', cases, agents: Math.max(...cases.map((c) => c.agents)), out, json };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      profile: { type: 'string' },
      mode: { type: 'string' },
      agents: { type: 'string' },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
}
