import { Registry } from '@opamp-fleet/telemetry';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics } from './metrics.js';

const lagOf = async (registry: Registry): Promise<number> => {
  const text = await registry.metrics();
  return Number(/^opamp_worker_heartbeat_flush_lag_seconds (\S+)$/m.exec(text)?.[1]);
};

describe('worker metrics: heartbeat flush lag', () => {
  it('is read from its source at scrape time', async () => {
    const registry = new Registry();
    let lag = 1.5;
    createWorkerMetrics(registry, { flushLagSeconds: async () => lag });
    expect(await lagOf(registry)).toBe(1.5);
    lag = 42;
    expect(await lagOf(registry)).toBe(42);
  });

  it('keeps the value of the last flush run when the source fails', async () => {
    const registry = new Registry();
    const metrics = createWorkerMetrics(registry, {
      flushLagSeconds: async () => {
        throw new Error('redis down');
      },
    });
    metrics.flushLag.set(3);
    expect(await lagOf(registry)).toBe(3);
  });

  it('reports the last flush run without a source', async () => {
    const registry = new Registry();
    createWorkerMetrics(registry).flushLag.set(0.25);
    expect(await lagOf(registry)).toBe(0.25);
  });
});
