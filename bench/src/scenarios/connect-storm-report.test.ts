import { describe, expect, it } from 'vitest';
import type { StormOutcome } from './connect-storm-fleet.js';
import { buildStormRun, isStormComplete, stormCharts, stormRatios } from './connect-storm-report.js';

const timeline = {
  seconds: [0, 1, 2],
  connected: [0, 60, 100],
  repliesPerSecond: [0, 60, 40],
  errors: [0, 5, 5],
};

function outcome(over: Partial<StormOutcome> = {}): StormOutcome {
  return {
    requested: 100,
    connected: 100,
    attempts: 105,
    refused503: 5,
    retryAfterSeconds: { min: 30, max: 30 },
    dialErrors: { 'http-503': 5 },
    badReplies: 0,
    handshakeMs: Array.from({ length: 100 }, (_, i) => i + 1),
    firstReplyMs: Array.from({ length: 100 }, () => 2),
    timeToConnectMs: Array.from({ length: 100 }, (_, i) => (i + 1) * 20),
    fullFleetMs: 2000,
    generatorCpuSeconds: 1,
    ...over,
  };
}

describe('connect-storm report', () => {
  it('derives rates, retries and CPU per connect from one storm', () => {
    const run = buildStormRun({
      target: 'gateway',
      settings: {},
      outcome: outcome(),
      wallSeconds: 4,
      server: { processes: 1, cpuSeconds: 0.05 },
      timeline,
    });
    expect(run.timeToFullFleetSeconds).toBe(2);
    expect(run.connectRatePerSecond).toBe(50);
    expect(run.retries).toBe(5);
    expect(run.server?.cpuMicrosPerConnect).toBeCloseTo(500);
    expect(run.generator.cpuPercent).toBe(25);
    expect(run.handshakeMs.p99).toBe(99);
    expect(isStormComplete(run)).toBe(true);
  });

  it('rates an incomplete storm by its last connect and compares gateway with baseline', () => {
    const partial = buildStormRun({
      target: 'gateway',
      settings: {},
      outcome: outcome({ connected: 50, fullFleetMs: null, timeToConnectMs: [500, 1000] }),
      wallSeconds: 4,
      server: null,
      timeline,
    });
    expect(partial.timeToFullFleetSeconds).toBeNull();
    expect(partial.connectRatePerSecond).toBe(50);
    expect(isStormComplete(partial)).toBe(false);
    const baseline = buildStormRun({
      target: 'baseline',
      settings: {},
      outcome: outcome({ fullFleetMs: 1000 }),
      wallSeconds: 2,
      server: { processes: 1, cpuSeconds: 0.01 },
      timeline,
    });
    const full = buildStormRun({
      target: 'gateway',
      settings: {},
      outcome: outcome(),
      wallSeconds: 4,
      server: { processes: 1, cpuSeconds: 0.05 },
      timeline,
    });
    expect(stormRatios(full, baseline)).toMatchObject({ timeToFullFleet: 2, connectRate: 0.5 });
    expect(stormRatios(full, null)).toBeNull();
    expect(Object.keys(stormCharts({ options: { agents: 100 }, gateway: full, baseline } as never))).toEqual([
      'connected',
      'connect-rate',
      'latency',
    ]);
  });
});
