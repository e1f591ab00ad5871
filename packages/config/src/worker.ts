import { z } from 'zod';
import { describeSpec, int, parseEnv, port, text, type VariableDoc, variable } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { currentProcessFacts, type LogLevel, type ProcessFacts } from './gateway.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every environment variable the worker reads, with its default and meaning. */
export const WORKER_ENV = {
  METRICS_HOST: variable(text(), '0.0.0.0', 'Address the ops port (/metrics, /healthz, /readyz) listens on.'),
  METRICS_PORT: variable(
    port(),
    '9465',
    'Ops port of the worker: Prometheus /metrics, /healthz and /readyz.',
  ),
  REDIS_URL: variable(
    text(),
    'redis://127.0.0.1:6379',
    'Redis holding the job queues and the last-seen set.',
    {
      secret: true,
    },
  ),
  REDIS_KEY_PREFIX: variable(
    text(),
    'opamp:',
    'Prefix of every Redis key (the same as the gateways); BullMQ keys live under `<prefix>bull`.',
  ),
  DATABASE_URL: variable(
    text(),
    'postgres://postgres@127.0.0.1:5432/opamp',
    'Postgres the events and last-seen times are written to.',
    { secret: true },
  ),
  DATABASE_POOL_MAX: variable(
    int(1, 1000),
    '10',
    'Postgres connections of the worker; at least WORKER_CONCURRENCY + 1 (one for the heartbeat flush).',
  ),
  WORKER_ID: variable(text(), '<hostname>-<pid>', 'Name of this worker process, shown on the jobs it runs.'),
  WORKER_CONCURRENCY: variable(int(1, 256), '4', 'Event batches written in parallel by one worker process.'),
  WORKER_GROUP_MAX_EVENTS: variable(
    int(0, 100_000),
    '500',
    'A worker slot that takes an event batch also takes waiting batches up to this many events and writes them together (one transaction per repository instead of two per batch); 0 writes every batch on its own.',
  ),
  HEARTBEAT_FLUSH_INTERVAL_MS: variable(
    int(50, 600_000),
    '500',
    'Period of the heartbeat flush (Redis last-seen -> agents.last_seen_at); one run at a time cluster-wide.',
  ),
  HEARTBEAT_FLUSH_CHUNK_SIZE: variable(
    int(1, 100_000),
    '5000',
    'Last-seen entries read per Redis call and written per Postgres statement.',
  ),
  HEARTBEAT_FLUSH_MAX_PER_RUN: variable(
    int(1, 10_000_000),
    '200000',
    'Most last-seen entries one flush run writes; the rest wait for the next run.',
  ),
  HEARTBEAT_FLUSH_OVERLAP_MS: variable(
    int(0, 600_000),
    '1000',
    'Window read again each run behind the flush watermark (or behind the start of the run that set it, when that run read past its own start), for last-seen scores that land late (gateways write Redis TIME minus the age of a touch). Keep it at 500 or more: touches written later than that are also listed in the late set, which every run writes whatever the watermark.',
  ),
  JOB_LOCK_DURATION_MS: variable(
    int(1000, 600_000),
    '30000',
    "Lock of a running job; a dead worker's job is re-run by another once it expires.",
  ),
  JOB_STALLED_INTERVAL_MS: variable(
    int(500, 600_000),
    '30000',
    'Period of the check that moves jobs of dead workers back to the queue.',
  ),
  JOB_MAX_STALLED_COUNT: variable(
    int(0, 1000),
    '3',
    'Times a job may lose its worker (crash, kill) before it is failed instead of re-run.',
  ),
  JOB_RETRY_BASE_DELAY_MS: variable(
    int(1, 3_600_000),
    '1000',
    'First retry delay of a failed event batch; doubles per attempt up to JOB_RETRY_MAX_DELAY_MS.',
  ),
  JOB_RETRY_MAX_DELAY_MS: variable(
    int(1, 3_600_000),
    '30000',
    'Longest retry delay of a failed event batch.',
  ),
  WORKER_STUCK_AFTER_MS: variable(
    int(1000, 86_400_000),
    '120000',
    '/healthz fails when jobs wait and this process started or finished none for this long.',
  ),
  SHUTDOWN_TIMEOUT_MS: variable(
    int(0, 3_600_000),
    '25000',
    'On SIGTERM, how long running batches may take to finish before the process exits anyway.',
  ),
  LOG_LEVEL: variable(z.enum(LOG_LEVELS), 'info', 'pino log level.'),
} as const;

/** The worker's configuration: parsed once, immutable. */
export interface WorkerConfig {
  readonly metricsHost: string;
  readonly metricsPort: number;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly databaseUrl: string;
  readonly databasePoolMax: number;
  readonly workerId: string;
  readonly concurrency: number;
  /** WORKER_GROUP_MAX_EVENTS: 0 when batches are written one by one. */
  readonly groupMaxEvents: number;
  readonly heartbeatFlushIntervalMs: number;
  readonly heartbeatFlushChunkSize: number;
  readonly heartbeatFlushMaxPerRun: number;
  readonly heartbeatFlushOverlapMs: number;
  readonly jobLockDurationMs: number;
  readonly jobStalledIntervalMs: number;
  readonly jobMaxStalledCount: number;
  readonly jobRetryBaseDelayMs: number;
  readonly jobRetryMaxDelayMs: number;
  readonly stuckAfterMs: number;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: LogLevel;
}

/** The documentation of every worker variable, in declaration order. */
export function describeWorkerConfig(): VariableDoc[] {
  return describeSpec(WORKER_ENV);
}

/**
 * Parses the worker configuration from `env` (defaults to process.env). Throws a {@link ConfigError}
 * naming every invalid variable; URLs (which may hold passwords) are never echoed. Call once, in
 * the composition root.
 */
export function loadWorkerConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  facts: Pick<ProcessFacts, 'hostname' | 'pid'> = currentProcessFacts(),
): WorkerConfig {
  const defaults = Object.fromEntries(
    Object.entries(WORKER_ENV).map(([name, v]) => [name, v.defaultText]),
  ) as Record<keyof typeof WORKER_ENV, string>;
  defaults.WORKER_ID = `${facts.hostname}-${facts.pid}`;

  const { values: v, issues } = parseEnv(WORKER_ENV, env, defaults);
  if (issues.length > 0) throw new ConfigError(issues);
  const config: WorkerConfig = {
    metricsHost: v.METRICS_HOST!,
    metricsPort: v.METRICS_PORT!,
    redisUrl: v.REDIS_URL!,
    redisKeyPrefix: v.REDIS_KEY_PREFIX!,
    databaseUrl: v.DATABASE_URL!,
    databasePoolMax: v.DATABASE_POOL_MAX!,
    workerId: v.WORKER_ID!,
    concurrency: v.WORKER_CONCURRENCY!,
    groupMaxEvents: v.WORKER_GROUP_MAX_EVENTS!,
    heartbeatFlushIntervalMs: v.HEARTBEAT_FLUSH_INTERVAL_MS!,
    heartbeatFlushChunkSize: v.HEARTBEAT_FLUSH_CHUNK_SIZE!,
    heartbeatFlushMaxPerRun: v.HEARTBEAT_FLUSH_MAX_PER_RUN!,
    heartbeatFlushOverlapMs: v.HEARTBEAT_FLUSH_OVERLAP_MS!,
    jobLockDurationMs: v.JOB_LOCK_DURATION_MS!,
    jobStalledIntervalMs: v.JOB_STALLED_INTERVAL_MS!,
    jobMaxStalledCount: v.JOB_MAX_STALLED_COUNT!,
    jobRetryBaseDelayMs: v.JOB_RETRY_BASE_DELAY_MS!,
    jobRetryMaxDelayMs: v.JOB_RETRY_MAX_DELAY_MS!,
    stuckAfterMs: v.WORKER_STUCK_AFTER_MS!,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS!,
    logLevel: v.LOG_LEVEL!,
  };
  const crossIssues = checkWorkerConfig(config);
  if (crossIssues.length > 0) throw new ConfigError(crossIssues);
  return Object.freeze(config);
}

/** Cross-field rules: relations between variables that each parsed fine on their own. */
function checkWorkerConfig(c: WorkerConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.databasePoolMax < c.concurrency + 1) {
    issues.push({
      variable: 'DATABASE_POOL_MAX',
      message: `must be at least WORKER_CONCURRENCY + 1 (${c.concurrency + 1}): each running batch and the heartbeat flush hold a connection`,
    });
  }
  if (c.jobRetryMaxDelayMs < c.jobRetryBaseDelayMs) {
    issues.push({ variable: 'JOB_RETRY_MAX_DELAY_MS', message: 'must be at least JOB_RETRY_BASE_DELAY_MS' });
  }
  if (c.heartbeatFlushChunkSize > c.heartbeatFlushMaxPerRun) {
    issues.push({
      variable: 'HEARTBEAT_FLUSH_CHUNK_SIZE',
      message: 'must not exceed HEARTBEAT_FLUSH_MAX_PER_RUN',
    });
  }
  return issues;
}
