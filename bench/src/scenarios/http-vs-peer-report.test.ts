import { describe, expect, it } from 'vitest';
import { buildHttpRun, httpRatios, isHttpRunComplete, type RawHttpRun } from './http-vs-peer-report.js';

function raw(over: Partial<RawHttpRun> = {}): RawHttpRun {
  return {
    target: 'gateway',
    settings: {},
    agents: 10,
    windowSeconds: 2,
    load: {
      polls: 1000,
      agentsAnswered: 10,
      errors: {},
      latencyMs: Float64Array.from({ length: 1000 }, (_, i) => i / 100),
      cpuSeconds: 0.5,
      processes: 1,
    },
    server: { processes: 1, cpuSeconds: 0.05 },
    backend: {
      workers: { processes: 1, cpuSeconds: 0.01 },
      redis: { processes: 1, cpuSeconds: 0.02 },
      postgres: null,
    },
    timeline: { seconds: [0, 1], connected: [0, 10], repliesPerSecond: [0, 500], errors: [0, 0] },
    ...over,
  };
}

describe('http-vs-peer report', () => {
  it('derives polls/s and CPU per poll, server alone and with what it writes to', () => {
    const run = buildHttpRun(raw());
    expect(run.pollsPerSecond).toBe(500);
    expect(run.server?.cpuMicrosPerPoll).toBeCloseTo(50);
    expect(run.backend?.totalCpuMicrosPerPoll).toBeCloseTo(80);
    expect(run.generator.cpuPercent).toBe(25);
    expect(run.latencyMs.count).toBe(1000);
    expect(isHttpRunComplete(run)).toBe(true);
  });

  it('divides ours by the peer and flags errors and unanswered agents', () => {
    const ours = buildHttpRun(raw());
    const peer = buildHttpRun(raw({ target: 'peer', backend: null, load: { ...raw().load, polls: 500 } }));
    expect(httpRatios(ours, peer)).toMatchObject({ pollsPerSecond: 2, serverCpuPerPoll: 0.5 });
    expect(httpRatios(ours, null)).toBeNull();
    const failing = buildHttpRun(raw({ load: { ...raw().load, errors: { timeout: 2 }, agentsAnswered: 9 } }));
    expect(failing.errorCount).toBe(2);
    expect(isHttpRunComplete(failing)).toBe(false);
  });
});
