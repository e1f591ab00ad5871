import { createMetricsRegistry, type Registry } from '@opamp-fleet/telemetry';
import { beforeEach, describe, expect, it } from 'vitest';
import { createFleetGauges, type FleetCounts, type FleetGauges } from './fleet-gauges.js';

const COUNTS: FleetCounts = { online: 7, offline: 2, error: 1 };

let registry: Registry;
let clock: { t: number; now(): number };
let leader: boolean;
let reads: number;
let next: () => Promise<FleetCounts>;
let gauges: FleetGauges;

beforeEach(() => {
  registry = createMetricsRegistry({ service: 'sweeper', defaultMetrics: false });
  clock = {
    t: 1000,
    now() {
      return this.t;
    },
  };
  leader = true;
  reads = 0;
  next = async () => COUNTS;
  gauges = createFleetGauges({
    registry,
    count: () => {
      reads += 1;
      return next();
    },
    isLeader: () => leader,
    refreshIntervalMs: 5000,
    monotonic: clock,
  });
});

/** The exported series of `opamp_agents`, by status. */
async function exported(): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('opamp_agents')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.status), v.value]));
}

describe('fleet gauges (opamp_agents, leader only)', () => {
  it('exports every status once read, as leader', async () => {
    expect(await exported()).toEqual({});
    expect(await gauges.refreshIfDue()).toBe(true);
    expect(await exported()).toEqual({ online: 7, offline: 2, error: 1 });
    expect(await registry.metrics()).toContain('opamp_agents{status="online",service="sweeper"} 7');
  });

  it('exports no series at all while not leader, and again once leading', async () => {
    await gauges.refreshIfDue();
    leader = false;
    expect(await exported()).toEqual({});
    expect(await registry.metrics()).not.toMatch(/^opamp_agents\{/m);
    leader = true;
    expect(await exported()).toEqual({ online: 7, offline: 2, error: 1 });
  });

  it('reads only when due', async () => {
    await gauges.refreshIfDue();
    clock.t += 4999;
    expect(await gauges.refreshIfDue()).toBe(false);
    clock.t += 1;
    next = async () => ({ online: 8, offline: 1, error: 1 });
    expect(await gauges.refreshIfDue()).toBe(true);
    expect(reads).toBe(2);
    expect((await exported()).online).toBe(8);
  });

  it('stops exporting a read that grew too old (reads failing), keeping it until then', async () => {
    await gauges.refreshIfDue();
    clock.t += 5000;
    next = () => Promise.reject(new Error('postgres down'));
    await expect(gauges.refreshIfDue()).rejects.toThrow('postgres down');
    clock.t += 10_000; // 15 s old: 3 x the interval
    expect((await exported()).online).toBe(7);
    clock.t += 1;
    expect(await exported()).toEqual({});
  });

  it('clear forgets the read; a read in flight during clear does not bring it back', async () => {
    await gauges.refreshIfDue();
    gauges.clear();
    expect(await exported()).toEqual({});
    let release!: (c: FleetCounts) => void;
    next = () => new Promise((resolve) => (release = resolve));
    const refreshing = gauges.refreshIfDue(); // due again: nothing read since clear
    gauges.clear();
    release(COUNTS);
    expect(await refreshing).toBe(false);
    expect(await exported()).toEqual({});
    next = async () => COUNTS;
    expect(await gauges.refreshIfDue()).toBe(true);
    expect(await exported()).toEqual({ online: 7, offline: 2, error: 1 });
  });

  it('refuses a refresh interval that is not positive', () => {
    expect(() =>
      createFleetGauges({ registry, count: next, isLeader: () => true, refreshIntervalMs: 0 }),
    ).toThrow('refreshIntervalMs');
  });
});
