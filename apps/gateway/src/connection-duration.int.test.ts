import type { Histogram } from '@opamp-fleet/telemetry';
import { eventually, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './testing/harness.js';

let fx: RedisFixture;
let gw: TestGateway;

beforeAll(async () => {
  fx = await redisFixture();
  gw = await startTestGateway(fx.url, fx.prefix, { FIRST_MESSAGE_TIMEOUT_MS: '5000' });
});
afterAll(async () => {
  await gw?.stop();
  await fx?.stop();
});

/** One series of the histogram: `_count`, `_sum` or `_bucket` (with `le`). */
async function sample(suffix: 'count' | 'sum' | 'bucket', le?: string): Promise<number> {
  const name = 'opamp_agent_connection_duration_seconds';
  const { values } = await (gw.registry.getSingleMetric(name) as Histogram).get();
  const v = values.find(
    (s) => s.metricName === `${name}_${suffix}` && (le === undefined || s.labels.le === le),
  );
  return v?.value ?? 0;
}
const count = () => sample('count');
const sum = () => sample('sum');

describe('opamp_agent_connection_duration_seconds', () => {
  it('observes each closed connection that spoke for an agent once, with its lifetime', async () => {
    const before = { count: await count(), sum: await sum() };
    const startedAt = performance.now();
    const agent = await gw.connect();
    await agent.send();
    await agent.heartbeat();
    await agent.close();
    await eventually(async () => expect(await count()).toBe(before.count + 1));
    const lifetime = (await sum()) - before.sum;
    expect(lifetime).toBeGreaterThan(0);
    expect(lifetime).toBeLessThanOrEqual((performance.now() - startedAt) / 1000);
    expect(await sample('bucket', '+Inf')).toBe(before.count + 1);
  });

  it('does not observe a socket that closed before any message (never bound to an agent)', async () => {
    const before = await count();
    const closes = await gw.metric('opamp_gateway_ws_closes_total');
    const silent = await gw.connect();
    await silent.close();
    await eventually(async () => expect(await gw.metric('opamp_gateway_ws_closes_total')).toBe(closes + 1));
    expect(await count()).toBe(before);
  });
});
