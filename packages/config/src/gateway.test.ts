import { describe, expect, it } from 'vitest';
import { describeGatewayConfig, GATEWAY_ENV, loadGatewayConfig, type ProcessFacts } from './gateway.js';
import { renderVariablesTable } from './markdown.js';
import { connectionCapForFileLimit, parseOpenFileSoftLimit } from './open-file-limit.js';
import { issuesOf as configIssues } from './testing/issues.js';

const facts: ProcessFacts = { hostname: 'gw-host', pid: 42, openFileLimit: 20_000 };

function load(env: Record<string, string | undefined>, f: ProcessFacts = facts) {
  return loadGatewayConfig(env, f);
}

const issuesOf = (env: Record<string, string | undefined>, f: ProcessFacts = facts) =>
  configIssues(() => load(env, f));

describe('loadGatewayConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const c = load({});
    expect(c).toMatchObject({
      opampHost: '0.0.0.0',
      opampPort: 4320,
      metricsPort: 9464,
      redisUrl: 'redis://127.0.0.1:6379',
      redisKeyPrefix: 'opamp:',
      gatewayId: 'gw-host-42',
      authTokens: [],
      heartbeatIntervalSeconds: 30,
      maxMessageBytes: 4 * 1024 * 1024,
      maxConnections: 19_600,
      presenceFlushIntervalMs: 100,
      reannounceIntervalSeconds: 25,
      socketKeepaliveTouchSeconds: 10,
      eventBatchMax: 500,
      eventFlushIntervalMs: 100,
      eventMaxBuffered: 100_000,
      logLevel: 'info',
      allowUwsJsFallback: false,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses given values, trims blanks and treats an empty value as unset', () => {
    const c = load({
      OPAMP_PORT: ' 5000 ',
      OPAMP_AUTH_TOKENS: 'a, b ,,c',
      ALLOW_UWS_JS_FALLBACK: 'true',
      LOG_LEVEL: 'debug',
      GATEWAY_ID: '',
    });
    expect(c.opampPort).toBe(5000);
    expect(c.authTokens).toEqual(['a', 'b', 'c']);
    expect(c.allowUwsJsFallback).toBe(true);
    expect(c.logLevel).toBe('debug');
    expect(c.gatewayId).toBe('gw-host-42');
  });

  it('names every invalid variable in one error', () => {
    const issues = issuesOf({
      OPAMP_PORT: 'abc',
      METRICS_PORT: '70000',
      LOG_LEVEL: 'loud',
      DRAIN_BATCH_SIZE: '0',
    });
    expect(issues.map((i) => i.variable).sort()).toEqual(
      ['DRAIN_BATCH_SIZE', 'LOG_LEVEL', 'METRICS_PORT', 'OPAMP_PORT'].sort(),
    );
    expect(issues.find((i) => i.variable === 'OPAMP_PORT')?.message).toMatch(/integer.*"abc"/);
  });

  it('puts the variable name in the error message', () => {
    expect(() => load({ MAX_MESSAGE_BYTES: '12.5' })).toThrow(/MAX_MESSAGE_BYTES: must be an integer/);
  });

  it('rejects a non-boolean flag', () => {
    expect(issuesOf({ ALLOW_UWS_JS_FALLBACK: 'maybe' })[0]?.message).toMatch(/true or false/);
  });

  it('derives the connection cap from the open-file limit, and falls back when it is unknown', () => {
    expect(load({}, { ...facts, openFileLimit: 1024 }).maxConnections).toBe(768);
    expect(load({}, { ...facts, openFileLimit: null }).maxConnections).toBe(768);
    expect(connectionCapForFileLimit(100_000)).toBe(98_000);
    expect(connectionCapForFileLimit(100)).toBe(1);
  });

  it('refuses a connection cap at or above the open-file limit', () => {
    expect(issuesOf({ MAX_CONNECTIONS: '20000' })[0]?.variable).toBe('MAX_CONNECTIONS');
    expect(load({ MAX_CONNECTIONS: '19999' }).maxConnections).toBe(19_999);
  });

  it('checks relations between variables', () => {
    expect(issuesOf({ HEARTBEAT_INTERVAL_SECONDS: '120', WS_IDLE_TIMEOUT_SECONDS: '60' })[0]?.variable).toBe(
      'WS_IDLE_TIMEOUT_SECONDS',
    );
    expect(issuesOf({ FIRST_MESSAGE_TIMEOUT_MS: '200000' })[0]?.variable).toBe('FIRST_MESSAGE_TIMEOUT_MS');
    expect(
      issuesOf({ PRESENCE_FLUSH_INTERVAL_MS: '5000', REANNOUNCE_INTERVAL_SECONDS: '2' })[0]?.variable,
    ).toBe('PRESENCE_FLUSH_INTERVAL_MS');
    expect(issuesOf({ OPAMP_PORT: '9000', METRICS_PORT: '9000' })[0]?.variable).toBe('METRICS_PORT');
    expect(issuesOf({ EVENT_BATCH_MAX: '1000', EVENT_MAX_BUFFERED: '999' })[0]?.variable).toBe(
      'EVENT_MAX_BUFFERED',
    );
    expect(load({ EVENT_BATCH_MAX: '10', EVENT_MAX_BUFFERED: '10' }).eventMaxBuffered).toBe(10);
    expect(issuesOf({ EVENT_BATCH_MAX: '10001' })[0]?.variable).toBe('EVENT_BATCH_MAX');
    expect(load({ OPAMP_PORT: '0', METRICS_PORT: '0' }).opampPort).toBe(0);
  });

  it('never echoes a token in an error', () => {
    const secretSpec = GATEWAY_ENV.OPAMP_AUTH_TOKENS;
    expect(secretSpec.secret).toBe(true);
    const err = (() => {
      try {
        load({ OPAMP_AUTH_TOKENS: 's3cr3t', OPAMP_PORT: 'x' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).not.toContain('s3cr3t');
  });
});

describe('describeGatewayConfig', () => {
  it('documents every variable with a default and a meaning', () => {
    const docs = describeGatewayConfig();
    expect(docs.map((d) => d.name)).toEqual(Object.keys(GATEWAY_ENV));
    for (const d of docs) {
      expect(d.default.length).toBeGreaterThan(0);
      expect(d.description.length).toBeGreaterThan(10);
    }
    const table = renderVariablesTable(docs);
    expect(table.split('\n')).toHaveLength(docs.length + 2);
    expect(table).toContain('| `OPAMP_PORT` | `4320` |');
  });
});

describe('parseOpenFileSoftLimit', () => {
  const limits = (soft: string) =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \nMax open files            ${soft}                20000                files     \n`;
  it('reads the soft limit', () => {
    expect(parseOpenFileSoftLimit(limits('20000'))).toBe(20_000);
  });
  it('returns null for unlimited or a missing line', () => {
    expect(parseOpenFileSoftLimit(limits('unlimited'))).toBeNull();
    expect(parseOpenFileSoftLimit('nothing here')).toBeNull();
  });
});
