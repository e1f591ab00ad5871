import { describe, expect, it } from 'vitest';
import { API_ENV, describeApiConfig, loadApiConfig } from './api.js';
import { renderVariablesTable } from './markdown.js';
import { issuesOf as configIssues } from './testing/issues.js';

const issuesOf = (env: Record<string, string | undefined>) => configIssues(() => loadApiConfig(env));

describe('loadApiConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const c = loadApiConfig({});
    expect(c).toEqual({
      apiHost: '0.0.0.0',
      apiPort: 8080,
      metricsHost: '0.0.0.0',
      metricsPort: 9467,
      authTokens: [],
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/opamp',
      databasePoolMax: 10,
      redisUrl: 'redis://127.0.0.1:6379',
      redisKeyPrefix: 'opamp:',
      redisCommandTimeoutMs: 1000,
      offlineTimeoutSeconds: 60,
      maxPageSize: 500,
      defaultPageSize: 100,
      shutdownTimeoutMs: 10_000,
      logLevel: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.authTokens)).toBe(true);
  });

  it('parses given values and names every invalid variable in one error', () => {
    expect(
      loadApiConfig({ API_AUTH_TOKENS: ' a, ,b ', API_PORT: '0', OFFLINE_TIMEOUT_SECONDS: '90' }),
    ).toMatchObject({ authTokens: ['a', 'b'], apiPort: 0, offlineTimeoutSeconds: 90 });
    const issues = issuesOf({ API_PORT: 'x', API_MAX_PAGE_SIZE: '5000', LOG_LEVEL: 'loud' });
    expect(issues.map((i) => i.variable).sort()).toEqual(['API_MAX_PAGE_SIZE', 'API_PORT', 'LOG_LEVEL']);
  });

  it('checks relations between variables', () => {
    expect(issuesOf({ API_MAX_PAGE_SIZE: '50' })[0]?.variable).toBe('API_DEFAULT_PAGE_SIZE');
    expect(issuesOf({ API_PORT: '9000', METRICS_PORT: '9000' })[0]?.variable).toBe('METRICS_PORT');
    expect(loadApiConfig({ API_PORT: '0', METRICS_PORT: '0' }).metricsPort).toBe(0);
  });

  it('never echoes a URL or a token', () => {
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'API_AUTH_TOKENS'] as const) {
      expect(API_ENV[name].secret).toBe(true);
    }
    let message = '';
    try {
      loadApiConfig({ REDIS_URL: 'redis://:s3cr3t@x', DATABASE_URL: ' ', API_PORT: '99999' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/API_PORT/);
    expect(message).not.toContain('s3cr3t');
  });
});

describe('describeApiConfig', () => {
  it('documents every variable with a default and a meaning', () => {
    const docs = describeApiConfig();
    expect(docs.map((d) => d.name)).toEqual(Object.keys(API_ENV));
    for (const d of docs) {
      expect(d.default.length).toBeGreaterThan(0);
      expect(d.description.length).toBeGreaterThan(10);
    }
    expect(renderVariablesTable(docs)).toContain('| `API_PORT` | `8080` |');
  });
});
