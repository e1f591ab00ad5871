import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './metrics.js';
import { type OpsServer, startOpsServer } from './ops-server.js';

let server: OpsServer | undefined;
afterEach(async () => {
  await server?.close();
});

describe('startOpsServer', () => {
  it('serves /metrics, /healthz and /readyz, and 404 elsewhere', async () => {
    let ready = false;
    const registry = createMetricsRegistry({ service: 'ops-test' });
    server = await startOpsServer({ host: '127.0.0.1', port: 0, registry, isReady: () => ready });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('service="ops-test"');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('reports unhealthy and closes idempotently', async () => {
    const registry = createMetricsRegistry({ service: 'ops-test', defaultMetrics: false });
    server = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      isReady: () => true,
      isHealthy: () => false,
    });
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(503);
    await Promise.all([server.close(), server.close()]);
  });
});
