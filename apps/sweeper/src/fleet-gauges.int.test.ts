import type { Registry } from '@opamp-fleet/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  ids,
  metricValue,
  seedOnline,
  startHarness,
  testSweeper,
  touch,
} from './testing/harness.js';

let hx: Harness;

beforeAll(async () => {
  hx = await startHarness();
});
afterAll(async () => {
  await hx?.stop();
});

/** The exported `opamp_agents` series of one replica, by status. */
async function fleetSeries(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('opamp_agents')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.status), v.value]));
}

const T = Date.UTC(2026, 2, 1, 12); // the fleet's "now" (ms, Redis clock)

describe('fleet-wide metrics across two sweeper replicas (real Postgres lease)', () => {
  it('only the leader exports opamp_agents; heartbeat misses are counted once, by whoever committed them', async () => {
    const agents = ids('fleet', 5);
    await seedOnline(hx.h, agents, T - 3_600_000, T);
    await touch(hx.redis, hx.lastSeenKey, agents.slice(0, 3), T + 30_000);
    await touch(hx.redis, hx.lastSeenKey, agents.slice(3), T);
    const a = testSweeper(hx, { offlineTimeoutSeconds: 60 });
    const b = testSweeper(hx, { offlineTimeoutSeconds: 60 });

    expect(await a.sweeper.runOnce(T + 1000)).toMatchObject({ leader: true });
    expect(await b.sweeper.runOnce(T + 1000)).toMatchObject({ leader: false });
    expect(await fleetSeries(a.registry)).toEqual({ online: 5, offline: 0, error: 0 });
    expect(await fleetSeries(b.registry)).toEqual({});

    // two agents miss their heartbeats: the leader takes them offline and counts them
    expect(await a.sweeper.runOnce(T + 60_001)).toMatchObject({ leader: true, offline: 2 });
    expect(await metricValue(a.registry, 'opamp_agent_heartbeat_missed_total')).toBe(2);
    expect(await metricValue(b.registry, 'opamp_agent_heartbeat_missed_total')).toBe(0);
    expect(
      await metricValue(a.registry, 'opamp_sweeper_transitions_total', { reason: 'heartbeat_timeout' }),
    ).toBe(2);

    // the leader steps down: it stops exporting at once; the new leader reads fresh counts
    await a.sweeper.stop();
    expect(await fleetSeries(a.registry)).toEqual({});
    expect(await b.sweeper.runOnce(T + 61_000)).toMatchObject({ leader: true });
    expect(await fleetSeries(b.registry)).toEqual({ online: 3, offline: 2, error: 0 });
    expect(await metricValue(b.registry, 'opamp_agent_heartbeat_missed_total')).toBe(0);
    await b.sweeper.stop();
    expect(await fleetSeries(b.registry)).toEqual({});
  });
});
