import { describe, expect, it } from 'vitest';
import { driveOpenLoop, type LaneStep } from './api-load.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('driveOpenLoop', () => {
  it('starts arrivals at the offered rate whether or not earlier ones finished', async () => {
    let started = 0;
    // each step takes 50 ms: a closed loop of one lane would reach 20/s, the open loop holds 100/s
    const step: LaneStep = async (time) => {
      started++;
      await time(() => sleep(50));
    };
    const r = await driveOpenLoop(100, 500, step);
    expect(started).toBe(50);
    expect(r.requests).toBe(50);
    expect(r.dropped).toBe(0);
    expect(r.offeredPerSecond).toBe(100);
    expect(r.peakInFlight).toBeGreaterThan(1);
    expect(r.latencyMs.p50).toBeGreaterThanOrEqual(49);
  });

  it('drops arrivals beyond the in-flight cap and counts failed requests as errors', async () => {
    let calls = 0;
    const step: LaneStep = async (time) => {
      calls++;
      await time(() => (calls % 2 === 0 ? Promise.reject(new Error('boom')) : sleep(200)));
    };
    const r = await driveOpenLoop(100, 200, step, 2);
    expect(r.peakInFlight).toBe(2);
    expect(r.dropped).toBeGreaterThan(0);
    expect(r.errors + r.requests + r.dropped).toBe(20);
    expect(r.errors).toBeGreaterThan(0);
  });

  it('reports how late arrivals were sent apart from the latency of their requests', async () => {
    const step: LaneStep = async (time) => {
      await time(async () => undefined);
    };
    // block the event loop so that every later arrival starts late
    const blocker = sleep(0).then(() => {
      const until = performance.now() + 60;
      while (performance.now() < until) {
        // busy
      }
    });
    const r = await driveOpenLoop(50, 100, step);
    await blocker;
    expect(r.requests).toBe(5);
    expect(r.sendLagMs.count).toBe(5);
    expect(r.sendLagMs.max).toBeGreaterThanOrEqual(20);
    // the requests themselves resolve at once
    expect(r.latencyMs.max).toBeLessThan(r.sendLagMs.max);
  });

  it('refuses a rate that is not positive', async () => {
    await expect(driveOpenLoop(0, 100, async () => undefined)).rejects.toThrow(RangeError);
  });
});
