import { describe, expect, it } from 'vitest';
import { renderVariablesTable } from './markdown.js';
import { issuesOf as configIssues } from './testing/issues.js';
import { describeWorkerConfig, loadWorkerConfig, WORKER_ENV } from './worker.js';

const facts = { hostname: 'wk-host', pid: 7 };
const load = (env: Record<string, string | undefined>) => loadWorkerConfig(env, facts);

const issuesOf = (env: Record<string, string | undefined>) => configIssues(() => load(env));

describe('loadWorkerConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const c = load({});
    expect(c).toEqual({
      metricsHost: '0.0.0.0',
      metricsPort: 9465,
      redisUrl: 'redis://127.0.0.1:6379',
      redisKeyPrefix: 'opamp:',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/opamp',
      databasePoolMax: 10,
      workerId: 'wk-host-7',
      concurrency: 4,
      groupMaxEvents: 500,
      heartbeatFlushIntervalMs: 500,
      heartbeatFlushChunkSize: 5000,
      heartbeatFlushMaxPerRun: 200_000,
      heartbeatFlushOverlapMs: 1000,
      jobLockDurationMs: 30_000,
      jobStalledIntervalMs: 30_000,
      jobMaxStalledCount: 3,
      jobRetryBaseDelayMs: 1000,
      jobRetryMaxDelayMs: 30_000,
      stuckAfterMs: 120_000,
      shutdownTimeoutMs: 25_000,
      logLevel: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses given values and names every invalid variable in one error', () => {
    expect(
      load({
        WORKER_CONCURRENCY: ' 8 ',
        DATABASE_POOL_MAX: '9',
        WORKER_ID: 'w1',
        WORKER_GROUP_MAX_EVENTS: '0',
      }),
    ).toMatchObject({
      concurrency: 8,
      databasePoolMax: 9,
      workerId: 'w1',
      groupMaxEvents: 0,
    });
    const issues = issuesOf({ METRICS_PORT: 'x', HEARTBEAT_FLUSH_INTERVAL_MS: '10', LOG_LEVEL: 'loud' });
    expect(issues.map((i) => i.variable).sort()).toEqual([
      'HEARTBEAT_FLUSH_INTERVAL_MS',
      'LOG_LEVEL',
      'METRICS_PORT',
    ]);
  });

  it('checks relations between variables', () => {
    expect(issuesOf({ WORKER_CONCURRENCY: '10' })[0]?.variable).toBe('DATABASE_POOL_MAX');
    expect(issuesOf({ JOB_RETRY_BASE_DELAY_MS: '5000', JOB_RETRY_MAX_DELAY_MS: '1000' })[0]?.variable).toBe(
      'JOB_RETRY_MAX_DELAY_MS',
    );
    expect(
      issuesOf({ HEARTBEAT_FLUSH_CHUNK_SIZE: '5000', HEARTBEAT_FLUSH_MAX_PER_RUN: '100' })[0]?.variable,
    ).toBe('HEARTBEAT_FLUSH_CHUNK_SIZE');
  });

  it('never echoes a URL, which may hold a password', () => {
    expect(WORKER_ENV.DATABASE_URL.secret).toBe(true);
    expect(WORKER_ENV.REDIS_URL.secret).toBe(true);
    const err = (() => {
      try {
        load({ DATABASE_URL: ' ', REDIS_URL: 'redis://:s3cr3t@x', METRICS_PORT: '99999' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/METRICS_PORT/);
    expect(err?.message).not.toContain('s3cr3t');
  });
});

describe('describeWorkerConfig', () => {
  it('documents every variable with a default and a meaning', () => {
    const docs = describeWorkerConfig();
    expect(docs.map((d) => d.name)).toEqual(Object.keys(WORKER_ENV));
    for (const d of docs) {
      expect(d.default.length).toBeGreaterThan(0);
      expect(d.description.length).toBeGreaterThan(10);
    }
    expect(renderVariablesTable(docs)).toContain('| `HEARTBEAT_FLUSH_INTERVAL_MS` | `500` |');
  });
});
