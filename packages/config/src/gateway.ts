import { hostname } from 'node:os';
import { z } from 'zod';
import { bool, describeSpec, int, list, parseEnv, port, text, type VariableDoc, variable } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { connectionCapForFileLimit, readOpenFileSoftLimit } from './open-file-limit.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Open-file limit assumed when the process's own limit cannot be read. */
const FALLBACK_OPEN_FILE_LIMIT = 1024;

const MiB = 1024 * 1024;

/** Every environment variable the gateway reads, with its default and meaning. */
export const GATEWAY_ENV = {
  OPAMP_HOST: variable(text(), '0.0.0.0', 'Address the OpAMP endpoint listens on.'),
  OPAMP_PORT: variable(port(), '4320', 'Port of the OpAMP endpoint: WebSocket and plain HTTP on /v1/opamp.'),
  METRICS_HOST: variable(text(), '0.0.0.0', 'Address the ops port (/metrics, /healthz, /readyz) listens on.'),
  METRICS_PORT: variable(port(), '9464', 'Ops port: Prometheus /metrics, /healthz and /readyz.'),
  REDIS_URL: variable(
    text(),
    'redis://127.0.0.1:6379',
    'Redis holding presence, the connection registry and sessions.',
  ),
  REDIS_KEY_PREFIX: variable(text(), 'opamp:', 'Prefix of every Redis key and channel the gateway uses.'),
  REDIS_COMMAND_TIMEOUT_MS: variable(
    int(50, 60_000),
    '1000',
    'A Redis command slower than this fails; the agent is still answered.',
  ),
  GATEWAY_ID: variable(
    text(),
    '<hostname>-<pid>',
    'Identity of this gateway process in the connection registry and command channel; unique per process.',
  ),
  OPAMP_AUTH_TOKENS: variable(
    list(),
    '(empty)',
    'Comma-separated bearer tokens accepted from agents. Empty disables authentication (a warning is logged).',
    { secret: true },
  ),
  HEARTBEAT_INTERVAL_SECONDS: variable(
    int(1, 86_400),
    '30',
    'Heartbeat interval offered to agents that accept OpAMP connection settings.',
  ),
  WS_IDLE_TIMEOUT_SECONDS: variable(
    int(8, 960),
    '120',
    'A WebSocket silent this long is pinged, and closed if it stays silent (4 s resolution).',
  ),
  MAX_MESSAGE_BYTES: variable(
    int(1024, 64 * MiB),
    String(4 * MiB),
    'Largest accepted message (WS frame, or HTTP body after gzip decompression); 4 MiB, see README.',
  ),
  MAX_ANYVALUE_DEPTH: variable(int(4, 100), '32', 'Deepest accepted nesting of AnyValue in a message.'),
  MAX_CONNECTIONS: variable(
    int(1, 10_000_000),
    'open-file soft limit minus max(256, 2 %)',
    'Cap on WebSocket connections plus in-flight HTTP requests; over it: 503 + Retry-After.',
  ),
  MAX_UPGRADES_PER_SECOND: variable(
    int(1, 1_000_000),
    '2000',
    'Rate of accepted WebSocket upgrades (token bucket, one second of burst); over it: 503 + Retry-After.',
  ),
  OVERLOAD_RETRY_AFTER_SECONDS: variable(
    int(1, 3600),
    '30',
    'Retry-After sent with 503 answers (the spec recommends at least 30); upgrades refused over the rate are spread from it.',
  ),
  FIRST_MESSAGE_TIMEOUT_MS: variable(
    int(100, 600_000),
    '10000',
    'A WebSocket that sends no message within this time after the upgrade is closed.',
  ),
  MALFORMED_MESSAGE_BUDGET: variable(
    int(1, 10_000),
    '10',
    'Malformed messages answered with BAD_REQUEST on one connection before it is closed.',
  ),
  PRESENCE_FLUSH_INTERVAL_MS: variable(
    int(10, 60_000),
    '100',
    'Tick of the coalesced last-seen writes to Redis (one batched write per tick, not one per message).',
  ),
  PRESENCE_MAX_PENDING: variable(
    int(1000, 10_000_000),
    '200000',
    'Most distinct agents buffered for the next last-seen write (bounds memory while Redis is down).',
  ),
  REANNOUNCE_INTERVAL_SECONDS: variable(
    int(1, 3600),
    '25',
    'Period of re-writing every held connection to the registry and presence (heals a Redis restart).',
  ),
  SOCKET_KEEPALIVE_TOUCH_SECONDS: variable(
    int(1, 3600),
    '10',
    "Period of the last-seen touch of held WebSockets whose agent lacks ReportsHeartbeat (kept alive by its open socket; a dead peer is still found by WS_IDLE_TIMEOUT_SECONDS' pings). Must be below the sweeper's OFFLINE_TIMEOUT_SECONDS / 2.",
  ),
  REDIS_EPOCH_CHECK_INTERVAL_MS: variable(
    int(100, 600_000),
    '1000',
    'How often Redis is checked for a data loss (restart, flush); a loss triggers an immediate re-announce.',
  ),
  DRAIN_BATCH_SIZE: variable(
    int(1, 1_000_000),
    '500',
    'Connections closed per batch when draining on SIGTERM.',
  ),
  DRAIN_INTERVAL_MS: variable(int(1, 60_000), '100', 'Pause between two drain batches.'),
  EVENT_BATCH_MAX: variable(
    int(1, 10_000),
    '500',
    'Connection and state events per BullMQ job; a batch is sent when full or EVENT_FLUSH_INTERVAL_MS old.',
  ),
  EVENT_FLUSH_INTERVAL_MS: variable(
    int(1, 60_000),
    '100',
    'Longest an event waits in the gateway before its batch is sent to the queue.',
  ),
  EVENT_MAX_BUFFERED: variable(
    int(1, 10_000_000),
    '100000',
    'Most events held while Redis is slow or down; over it the oldest batches are dropped (counted in a metric).',
  ),
  DUPLICATE_TAKEOVER_WINDOW_SECONDS: variable(
    int(1, 86_400),
    '60',
    'Window in which repeated takeovers of one instance_uid mean two live agents share it (one gets a new uid).',
  ),
  LOG_LEVEL: variable(z.enum(LOG_LEVELS), 'info', 'pino log level.'),
  ALLOW_UWS_JS_FALLBACK: variable(
    bool(),
    'false',
    "Allow running on uWebSockets.js's slow pure-JS fallback when its native binary cannot load.",
  ),
} as const;

/** The gateway's configuration: parsed once, immutable. */
export interface GatewayConfig {
  readonly opampHost: string;
  readonly opampPort: number;
  readonly metricsHost: string;
  readonly metricsPort: number;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly redisCommandTimeoutMs: number;
  readonly gatewayId: string;
  readonly authTokens: readonly string[];
  readonly heartbeatIntervalSeconds: number;
  readonly wsIdleTimeoutSeconds: number;
  readonly maxMessageBytes: number;
  readonly maxAnyValueDepth: number;
  readonly maxConnections: number;
  readonly maxUpgradesPerSecond: number;
  readonly overloadRetryAfterSeconds: number;
  readonly firstMessageTimeoutMs: number;
  readonly malformedMessageBudget: number;
  readonly presenceFlushIntervalMs: number;
  readonly presenceMaxPending: number;
  readonly reannounceIntervalSeconds: number;
  readonly socketKeepaliveTouchSeconds: number;
  readonly redisEpochCheckIntervalMs: number;
  readonly drainBatchSize: number;
  readonly drainIntervalMs: number;
  readonly duplicateTakeoverWindowSeconds: number;
  readonly eventBatchMax: number;
  readonly eventFlushIntervalMs: number;
  readonly eventMaxBuffered: number;
  readonly logLevel: LogLevel;
  readonly allowUwsJsFallback: boolean;
}

/** Facts about the running process that defaults derive from; injectable so tests are deterministic. */
export interface ProcessFacts {
  readonly hostname: string;
  readonly pid: number;
  /** The open-file soft limit, or null when unknown. */
  readonly openFileLimit: number | null;
}

export function currentProcessFacts(): ProcessFacts {
  return { hostname: hostname(), pid: process.pid, openFileLimit: readOpenFileSoftLimit() };
}

/** The documentation of every gateway variable, in declaration order. */
export function describeGatewayConfig(): VariableDoc[] {
  return describeSpec(GATEWAY_ENV);
}

/**
 * Parses the gateway configuration from `env` (defaults to process.env). Throws a {@link ConfigError}
 * naming every invalid variable. Call once, in the composition root.
 */
export function loadGatewayConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  facts: ProcessFacts = currentProcessFacts(),
): GatewayConfig {
  const fileLimit = facts.openFileLimit ?? FALLBACK_OPEN_FILE_LIMIT;
  const defaults = Object.fromEntries(
    Object.entries(GATEWAY_ENV).map(([name, v]) => [name, v.defaultText]),
  ) as Record<keyof typeof GATEWAY_ENV, string>;
  defaults.OPAMP_AUTH_TOKENS = '';
  defaults.GATEWAY_ID = `${facts.hostname}-${facts.pid}`;
  defaults.MAX_CONNECTIONS = String(connectionCapForFileLimit(fileLimit));

  const { values: v, issues } = parseEnv(GATEWAY_ENV, env, defaults);
  if (issues.length > 0) throw new ConfigError(issues);
  const config: GatewayConfig = {
    opampHost: v.OPAMP_HOST!,
    opampPort: v.OPAMP_PORT!,
    metricsHost: v.METRICS_HOST!,
    metricsPort: v.METRICS_PORT!,
    redisUrl: v.REDIS_URL!,
    redisKeyPrefix: v.REDIS_KEY_PREFIX!,
    redisCommandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS!,
    gatewayId: v.GATEWAY_ID!,
    authTokens: v.OPAMP_AUTH_TOKENS!,
    heartbeatIntervalSeconds: v.HEARTBEAT_INTERVAL_SECONDS!,
    wsIdleTimeoutSeconds: v.WS_IDLE_TIMEOUT_SECONDS!,
    maxMessageBytes: v.MAX_MESSAGE_BYTES!,
    maxAnyValueDepth: v.MAX_ANYVALUE_DEPTH!,
    maxConnections: v.MAX_CONNECTIONS!,
    maxUpgradesPerSecond: v.MAX_UPGRADES_PER_SECOND!,
    overloadRetryAfterSeconds: v.OVERLOAD_RETRY_AFTER_SECONDS!,
    firstMessageTimeoutMs: v.FIRST_MESSAGE_TIMEOUT_MS!,
    malformedMessageBudget: v.MALFORMED_MESSAGE_BUDGET!,
    presenceFlushIntervalMs: v.PRESENCE_FLUSH_INTERVAL_MS!,
    presenceMaxPending: v.PRESENCE_MAX_PENDING!,
    reannounceIntervalSeconds: v.REANNOUNCE_INTERVAL_SECONDS!,
    socketKeepaliveTouchSeconds: v.SOCKET_KEEPALIVE_TOUCH_SECONDS!,
    redisEpochCheckIntervalMs: v.REDIS_EPOCH_CHECK_INTERVAL_MS!,
    drainBatchSize: v.DRAIN_BATCH_SIZE!,
    drainIntervalMs: v.DRAIN_INTERVAL_MS!,
    duplicateTakeoverWindowSeconds: v.DUPLICATE_TAKEOVER_WINDOW_SECONDS!,
    eventBatchMax: v.EVENT_BATCH_MAX!,
    eventFlushIntervalMs: v.EVENT_FLUSH_INTERVAL_MS!,
    eventMaxBuffered: v.EVENT_MAX_BUFFERED!,
    logLevel: v.LOG_LEVEL!,
    allowUwsJsFallback: v.ALLOW_UWS_JS_FALLBACK!,
  };
  const crossIssues = checkGatewayConfig(config, fileLimit);
  if (crossIssues.length > 0) throw new ConfigError(crossIssues);
  return Object.freeze(config);
}

/** Cross-field rules: relations between variables that each parsed fine on their own. */
function checkGatewayConfig(c: GatewayConfig, openFileLimit: number): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.wsIdleTimeoutSeconds <= c.heartbeatIntervalSeconds) {
    issues.push({
      variable: 'WS_IDLE_TIMEOUT_SECONDS',
      message: `must exceed HEARTBEAT_INTERVAL_SECONDS (${c.heartbeatIntervalSeconds}), or heartbeating agents are pinged or dropped between heartbeats`,
    });
  }
  if (c.firstMessageTimeoutMs >= c.wsIdleTimeoutSeconds * 1000) {
    issues.push({
      variable: 'FIRST_MESSAGE_TIMEOUT_MS',
      message: `must be below WS_IDLE_TIMEOUT_SECONDS (${c.wsIdleTimeoutSeconds} s), or it never fires`,
    });
  }
  if (c.presenceFlushIntervalMs >= c.reannounceIntervalSeconds * 1000) {
    issues.push({
      variable: 'PRESENCE_FLUSH_INTERVAL_MS',
      message: `must be below REANNOUNCE_INTERVAL_SECONDS (${c.reannounceIntervalSeconds} s)`,
    });
  }
  if (c.maxConnections >= openFileLimit) {
    issues.push({
      variable: 'MAX_CONNECTIONS',
      message: `must be below the open-file limit (${openFileLimit}); at the limit accept() fails with EMFILE`,
    });
  }
  if (c.eventMaxBuffered < c.eventBatchMax) {
    issues.push({
      variable: 'EVENT_MAX_BUFFERED',
      message: `must be at least EVENT_BATCH_MAX (${c.eventBatchMax}), or no batch ever fills`,
    });
  }
  if (c.opampPort !== 0 && c.opampPort === c.metricsPort) {
    issues.push({ variable: 'METRICS_PORT', message: 'must differ from OPAMP_PORT' });
  }
  return issues;
}
