import { z } from 'zod';
import { describeSpec, int, list, parseEnv, port, text, type VariableDoc, variable } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import type { LogLevel } from './gateway.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every environment variable the REST API reads, with its default and meaning. */
export const API_ENV = {
  API_HOST: variable(text(), '0.0.0.0', 'Address the REST API listens on.'),
  API_PORT: variable(port(), '8080', 'Port of the REST API (`/api/v1/...`).'),
  METRICS_HOST: variable(text(), '0.0.0.0', 'Address the ops port (/metrics, /healthz, /readyz) listens on.'),
  METRICS_PORT: variable(port(), '9467', 'Ops port of the API: Prometheus /metrics, /healthz and /readyz.'),
  API_AUTH_TOKENS: variable(
    list(),
    '(empty)',
    'Comma-separated bearer tokens accepted by the REST API (not the agent tokens). Empty disables authentication (a warning is logged).',
    { secret: true },
  ),
  DATABASE_URL: variable(
    text(),
    'postgres://postgres@127.0.0.1:5432/opamp',
    'Postgres holding the agents and their history (read only).',
    { secret: true },
  ),
  DATABASE_POOL_MAX: variable(int(1, 1000), '10', 'Postgres connections of one API process.'),
  REDIS_URL: variable(
    text(),
    'redis://127.0.0.1:6379',
    'Redis holding the last-seen set, the connection registry and the gateway command channels.',
    { secret: true },
  ),
  REDIS_KEY_PREFIX: variable(
    text(),
    'opamp:',
    'Prefix of every Redis key and channel (the same as the gateways).',
  ),
  REDIS_COMMAND_TIMEOUT_MS: variable(
    int(50, 60_000),
    '1000',
    'A Redis command slower than this fails; reads then fall back to Postgres alone.',
  ),
  OFFLINE_TIMEOUT_SECONDS: variable(
    int(1, 86_400),
    '60',
    "An online agent whose freshest last-seen is older than this reads as offline (stale), as the sweeper's rule; use the sweeper's value.",
  ),
  API_MAX_PAGE_SIZE: variable(
    int(1, 1000),
    '500',
    'Largest `limit` of a paginated endpoint; a larger one is refused with 400.',
  ),
  API_DEFAULT_PAGE_SIZE: variable(int(1, 1000), '100', 'Page size when a request gives no `limit`.'),
  SHUTDOWN_TIMEOUT_MS: variable(
    int(0, 3_600_000),
    '10000',
    'On SIGTERM, how long in-flight requests may take before the process exits anyway.',
  ),
  LOG_LEVEL: variable(z.enum(LOG_LEVELS), 'info', 'pino log level.'),
} as const;

/** The API's configuration: parsed once, immutable. */
export interface ApiConfig {
  readonly apiHost: string;
  readonly apiPort: number;
  readonly metricsHost: string;
  readonly metricsPort: number;
  readonly authTokens: readonly string[];
  readonly databaseUrl: string;
  readonly databasePoolMax: number;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly redisCommandTimeoutMs: number;
  readonly offlineTimeoutSeconds: number;
  readonly maxPageSize: number;
  readonly defaultPageSize: number;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: LogLevel;
}

/** The documentation of every API variable, in declaration order. */
export function describeApiConfig(): VariableDoc[] {
  return describeSpec(API_ENV);
}

/**
 * Parses the API configuration from `env` (defaults to process.env). Throws a {@link ConfigError}
 * naming every invalid variable; URLs and tokens are never echoed. Call once, in the composition root.
 */
export function loadApiConfig(env: Readonly<Record<string, string | undefined>> = process.env): ApiConfig {
  const defaults = Object.fromEntries(
    Object.entries(API_ENV).map(([name, v]) => [name, v.defaultText]),
  ) as Record<keyof typeof API_ENV, string>;
  defaults.API_AUTH_TOKENS = '';

  const { values: v, issues } = parseEnv(API_ENV, env, defaults);
  if (issues.length > 0) throw new ConfigError(issues);
  const config: ApiConfig = {
    apiHost: v.API_HOST!,
    apiPort: v.API_PORT!,
    metricsHost: v.METRICS_HOST!,
    metricsPort: v.METRICS_PORT!,
    authTokens: Object.freeze([...v.API_AUTH_TOKENS!]),
    databaseUrl: v.DATABASE_URL!,
    databasePoolMax: v.DATABASE_POOL_MAX!,
    redisUrl: v.REDIS_URL!,
    redisKeyPrefix: v.REDIS_KEY_PREFIX!,
    redisCommandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS!,
    offlineTimeoutSeconds: v.OFFLINE_TIMEOUT_SECONDS!,
    maxPageSize: v.API_MAX_PAGE_SIZE!,
    defaultPageSize: v.API_DEFAULT_PAGE_SIZE!,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS!,
    logLevel: v.LOG_LEVEL!,
  };
  const crossIssues = checkApiConfig(config);
  if (crossIssues.length > 0) throw new ConfigError(crossIssues);
  return Object.freeze(config);
}

/** Cross-field rules: relations between variables that each parsed fine on their own. */
function checkApiConfig(c: ApiConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.defaultPageSize > c.maxPageSize) {
    issues.push({
      variable: 'API_DEFAULT_PAGE_SIZE',
      message: `must not exceed API_MAX_PAGE_SIZE (${c.maxPageSize})`,
    });
  }
  if (c.apiPort !== 0 && c.apiPort === c.metricsPort) {
    issues.push({ variable: 'METRICS_PORT', message: 'must differ from API_PORT' });
  }
  return issues;
}
