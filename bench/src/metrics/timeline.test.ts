import { describe, expect, it } from 'vitest';
import { startTimeline, timelinePoints } from './timeline.js';

describe('startTimeline', () => {
  it('samples counters, computes replies per second between samples, and stops once', async () => {
    let clock = 0;
    const counters = { connected: 0, received: 0, errors: 0 };
    const sampler = startTimeline(
      () => ({ ...counters }),
      5,
      () => clock,
    );
    clock = 2000;
    Object.assign(counters, { connected: 10, received: 400, errors: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    clock = 4000;
    Object.assign(counters, { connected: 12, received: 1000, errors: 1 });
    const timeline = sampler.stop();
    expect(timeline.seconds[0]).toBe(0);
    expect(timeline.seconds.at(-1)).toBe(4);
    expect(timeline.connected.at(-1)).toBe(12);
    expect(timeline.errors.at(-1)).toBe(1);
    // Replies over the whole run add up whatever the sampling: sum(rate * dt) = received.
    let total = 0;
    for (let i = 1; i < timeline.seconds.length; i++) {
      total += timeline.repliesPerSecond[i]! * (timeline.seconds[i]! - timeline.seconds[i - 1]!);
    }
    expect(total).toBeCloseTo(1000);
    expect(sampler.stop()).toBe(timeline);
    expect(timelinePoints(timeline, 'connected').at(-1)).toEqual([4, 12]);
  });
});
