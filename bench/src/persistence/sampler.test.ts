import { describe, expect, it } from 'vitest';
import { startSampler } from './sampler.js';

describe('startSampler', () => {
  it('collects every read, skips failed reads, never overlaps, and stops after the read in flight', async () => {
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const sampler = startSampler(async () => {
      calls += 1;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight -= 1;
      if (calls === 2) throw new Error('missed');
      return [calls];
    }, 1);
    await new Promise((r) => setTimeout(r, 40));
    const values = await sampler.stop();
    const after = calls;
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toBe(after);
    expect(maxInFlight).toBe(1);
    expect(values[0]).toBe(1);
    expect(values).not.toContain(2);
    expect(values.length).toBeGreaterThan(2);
  });
});
