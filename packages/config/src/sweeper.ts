import { z } from 'zod';
import { describeSpec, int, parseEnv, port, text, type VariableDoc, variable } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { currentProcessFacts, type LogLevel, type ProcessFacts } from './gateway.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every environment variable the sweeper reads, with its default and meaning. */
export const SWEEPER_ENV = {
  METRICS_HOST: variable(text(), '0.0.0.0', 'Address the ops port (/metrics, /healthz, /readyz) listens on.'),
  METRICS_PORT: variable(
    port(),
    '9466',
    'Ops port of the sweeper: Prometheus /metrics, /healthz and /readyz.',
  ),
  REDIS_URL: variable(text(), 'redis://127.0.0.1:6379', 'Redis holding the last-seen set and the registry.', {
    secret: true,
  }),
  REDIS_KEY_PREFIX: variable(
    text(),
    'opamp:',
    'Prefix of every Redis key and channel (the same as the gateways).',
  ),
  REDIS_COMMAND_TIMEOUT_MS: variable(
    int(50, 60_000),
    '1000',
    'A Redis command slower than this fails; the tick is cut short and retried on the next one.',
  ),
  DATABASE_URL: variable(
    text(),
    'postgres://postgres@127.0.0.1:5432/opamp',
    'Postgres holding the agents, their history and the leader lease.',
    { secret: true },
  ),
  SWEEPER_ID: variable(
    text(),
    '<hostname>-<pid>',
    'Name of this sweeper replica in the lease (a random suffix is added per process).',
  ),
  OFFLINE_TIMEOUT_SECONDS: variable(
    int(1, 86_400),
    '60',
    'An online agent whose last-seen is older than this goes offline (heartbeat_timeout). Keep it well above the heartbeat interval.',
  ),
  ERROR_AFTER_SECONDS: variable(
    int(1, 31_536_000),
    '600',
    'An agent offline this long goes to error (offline_too_long): it likely needs a human.',
  ),
  SWEEP_INTERVAL_MS: variable(int(50, 60_000), '1000', 'Pause between two sweep ticks.'),
  SWEEP_BATCH_SIZE: variable(
    int(1, 50_000),
    '2000',
    'Expired agents read, re-checked and transitioned per batch (one Postgres statement).',
  ),
  SWEEP_TICK_BUDGET_MS: variable(
    int(10, 600_000),
    '2000',
    'A tick starts no new batch after this long; what is left waits for the next tick.',
  ),
  LEASE_TTL_MS: variable(
    int(500, 600_000),
    '5000',
    'Leader lease duration (renewed every tick); a dead leader is replaced within about this long.',
  ),
  REDIS_LOSS_GRACE_SECONDS: variable(
    int(0, 86_400),
    'OFFLINE_TIMEOUT_SECONDS',
    'After a Redis data loss, restart or outage, no agent goes offline for this long while gateways re-announce.',
  ),
  LOG_LEVEL: variable(z.enum(LOG_LEVELS), 'info', 'pino log level.'),
} as const;

/** The sweeper's configuration: parsed once, immutable. */
export interface SweeperConfig {
  readonly metricsHost: string;
  readonly metricsPort: number;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly redisCommandTimeoutMs: number;
  readonly databaseUrl: string;
  readonly sweeperId: string;
  readonly offlineTimeoutSeconds: number;
  readonly errorAfterSeconds: number;
  readonly sweepIntervalMs: number;
  readonly sweepBatchSize: number;
  readonly sweepTickBudgetMs: number;
  readonly leaseTtlMs: number;
  readonly redisLossGraceSeconds: number;
  readonly logLevel: LogLevel;
}

/** The documentation of every sweeper variable, in declaration order. */
export function describeSweeperConfig(): VariableDoc[] {
  return describeSpec(SWEEPER_ENV);
}

/**
 * Parses the sweeper configuration from `env` (defaults to process.env). Throws a {@link ConfigError}
 * naming every invalid variable; URLs (which may hold passwords) are never echoed. Call once, in the
 * composition root.
 */
export function loadSweeperConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  facts: Pick<ProcessFacts, 'hostname' | 'pid'> = currentProcessFacts(),
): SweeperConfig {
  const defaults = Object.fromEntries(
    Object.entries(SWEEPER_ENV).map(([name, v]) => [name, v.defaultText]),
  ) as Record<keyof typeof SWEEPER_ENV, string>;
  defaults.SWEEPER_ID = `${facts.hostname}-${facts.pid}`;
  defaults.REDIS_LOSS_GRACE_SECONDS = '0'; // replaced by OFFLINE_TIMEOUT_SECONDS below when unset

  const { values: v, issues } = parseEnv(SWEEPER_ENV, env, defaults);
  if (issues.length > 0) throw new ConfigError(issues);
  const config: SweeperConfig = {
    metricsHost: v.METRICS_HOST!,
    metricsPort: v.METRICS_PORT!,
    redisUrl: v.REDIS_URL!,
    redisKeyPrefix: v.REDIS_KEY_PREFIX!,
    redisCommandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS!,
    databaseUrl: v.DATABASE_URL!,
    sweeperId: v.SWEEPER_ID!,
    offlineTimeoutSeconds: v.OFFLINE_TIMEOUT_SECONDS!,
    errorAfterSeconds: v.ERROR_AFTER_SECONDS!,
    sweepIntervalMs: v.SWEEP_INTERVAL_MS!,
    sweepBatchSize: v.SWEEP_BATCH_SIZE!,
    sweepTickBudgetMs: v.SWEEP_TICK_BUDGET_MS!,
    leaseTtlMs: v.LEASE_TTL_MS!,
    redisLossGraceSeconds: env.REDIS_LOSS_GRACE_SECONDS?.trim()
      ? v.REDIS_LOSS_GRACE_SECONDS!
      : v.OFFLINE_TIMEOUT_SECONDS!,
    logLevel: v.LOG_LEVEL!,
  };
  const crossIssues = checkSweeperConfig(config);
  if (crossIssues.length > 0) throw new ConfigError(crossIssues);
  return Object.freeze(config);
}

/** Cross-field rules: relations between variables that each parsed fine on their own. */
function checkSweeperConfig(c: SweeperConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.sweepIntervalMs + c.sweepTickBudgetMs >= c.leaseTtlMs) {
    issues.push({
      variable: 'LEASE_TTL_MS',
      message: `must exceed SWEEP_INTERVAL_MS + SWEEP_TICK_BUDGET_MS (${c.sweepIntervalMs + c.sweepTickBudgetMs}): the lease is renewed once per tick`,
    });
  }
  if (c.redisCommandTimeoutMs >= c.leaseTtlMs) {
    issues.push({
      variable: 'REDIS_COMMAND_TIMEOUT_MS',
      message: `must be below LEASE_TTL_MS (${c.leaseTtlMs})`,
    });
  }
  return issues;
}
