import { describe, expect, it } from 'vitest';
import { renderVariablesTable } from './markdown.js';
import { describeSweeperConfig, loadSweeperConfig, SWEEPER_ENV } from './sweeper.js';
import { issuesOf as configIssues } from './testing/issues.js';

const facts = { hostname: 'sw-host', pid: 9 };
const load = (env: Record<string, string | undefined>) => loadSweeperConfig(env, facts);

const issuesOf = (env: Record<string, string | undefined>) => configIssues(() => load(env));

describe('loadSweeperConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const c = load({});
    expect(c).toEqual({
      metricsHost: '0.0.0.0',
      metricsPort: 9466,
      redisUrl: 'redis://127.0.0.1:6379',
      redisKeyPrefix: 'opamp:',
      redisCommandTimeoutMs: 1000,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/opamp',
      sweeperId: 'sw-host-9',
      offlineTimeoutSeconds: 60,
      errorAfterSeconds: 600,
      sweepIntervalMs: 1000,
      sweepBatchSize: 2000,
      sweepTickBudgetMs: 2000,
      leaseTtlMs: 5000,
      redisLossGraceSeconds: 60,
      logLevel: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('derives the grace window from the offline timeout unless it is set', () => {
    expect(load({ OFFLINE_TIMEOUT_SECONDS: '3' }).redisLossGraceSeconds).toBe(3);
    expect(load({ OFFLINE_TIMEOUT_SECONDS: '3', REDIS_LOSS_GRACE_SECONDS: '0' }).redisLossGraceSeconds).toBe(
      0,
    );
    expect(load({ REDIS_LOSS_GRACE_SECONDS: ' 20 ' }).redisLossGraceSeconds).toBe(20);
  });

  it('names every invalid variable in one error and never echoes the URLs', () => {
    const issues = issuesOf({
      METRICS_PORT: 'x',
      OFFLINE_TIMEOUT_SECONDS: '0',
      LOG_LEVEL: 'loud',
      DATABASE_URL: ' ',
      REDIS_URL: '',
      SWEEP_BATCH_SIZE: '1.5',
    });
    expect(issues.map((i) => i.variable).sort()).toEqual([
      'LOG_LEVEL',
      'METRICS_PORT',
      'OFFLINE_TIMEOUT_SECONDS',
      'SWEEP_BATCH_SIZE',
    ]);
    const secret = issuesOf({ DATABASE_URL: 'x', METRICS_PORT: '-1' });
    expect(JSON.stringify(secret)).not.toContain('postgres://');
  });

  it('never echoes a secret that fails to parse', () => {
    const err = (() => {
      try {
        loadSweeperConfig({ REDIS_URL: 'redis://u:hunter2@h', LEASE_TTL_MS: '1' }, facts);
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err?.message).toContain('LEASE_TTL_MS');
    expect(err?.message).not.toContain('hunter2');
  });

  it('checks that the lease outlives a tick and a Redis command', () => {
    expect(issuesOf({ SWEEP_INTERVAL_MS: '1000', SWEEP_TICK_BUDGET_MS: '4000' })).toEqual([
      expect.objectContaining({ variable: 'LEASE_TTL_MS' }),
    ]);
    expect(issuesOf({ LEASE_TTL_MS: '5000', REDIS_COMMAND_TIMEOUT_MS: '5000' })).toEqual([
      expect.objectContaining({ variable: 'REDIS_COMMAND_TIMEOUT_MS' }),
    ]);
  });

  it('documents every variable', () => {
    const docs = describeSweeperConfig();
    expect(docs.map((d) => d.name)).toEqual(Object.keys(SWEEPER_ENV));
    expect(renderVariablesTable(docs)).toContain('`OFFLINE_TIMEOUT_SECONDS`');
  });
});
