import { Writable } from 'node:stream';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes JSON lines with name, level and component', () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: 'gateway', level: 'info', destination });
    log.child({ component: 'ws' }).info({ n: 1 }, 'hello');
    log.debug('hidden');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ name: 'gateway', component: 'ws', n: 1, msg: 'hello', level: 30 });
  });

  it('redacts authorization headers and tokens', () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: 't', level: 'info', destination });
    log.info({
      headers: { authorization: 'Bearer s3cr3t' },
      token: 's3cr3t',
      cfg: { authTokens: ['s3cr3t'] },
    });
    log.info({ req: { headers: { authorization: 'Bearer s3cr3t' } } });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('s3cr3t');
    expect(text).toContain('[Redacted]');
  });
});

describe('createMetricsRegistry', () => {
  it('labels metrics with the service and collects process metrics', async () => {
    const registry = createMetricsRegistry({ service: 'gateway' });
    new Counter({ name: 'x_total', help: 'x', registers: [registry] }).inc();
    const text = await registry.metrics();
    expect(text).toContain('x_total{service="gateway"} 1');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('names no default gauge with the counter suffix _total (promtool check metrics)', async () => {
    const text = await createMetricsRegistry({ service: 's' }).metrics();
    const gauges = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]);
    expect(gauges).toContain('nodejs_active_handles');
    expect(gauges.filter((name) => name?.endsWith('_total'))).toEqual([]);
  });

  it('can leave out the default metrics', async () => {
    const registry = createMetricsRegistry({ service: 's', defaultMetrics: false });
    expect(await registry.metrics()).not.toContain('process_cpu');
  });
});
