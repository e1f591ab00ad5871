import { describe, expect, it } from 'vitest';
import { emptyCounters, mergeSimCounters } from './counters.js';
import { pickRandom, transportFor } from './local-sim.js';
import { SampleBuffer } from './samples.js';
import { splitCount } from './simulator.js';
import { simUsageSummary } from './timeline.js';

describe('transportFor', () => {
  it('spreads the HTTP share evenly over the slots', () => {
    const of = (share: number) => Array.from({ length: 100 }, (_, i) => transportFor(i, share));
    expect(of(0).every((t) => t === 'ws')).toBe(true);
    expect(of(1).every((t) => t === 'http')).toBe(true);
    expect(of(0.5).filter((t) => t === 'http')).toHaveLength(50);
    expect(of(0.5).slice(0, 4)).toEqual(['ws', 'http', 'ws', 'http']);
    expect(of(0.25).filter((t) => t === 'http')).toHaveLength(25);
  });
});

describe('pickRandom and splitCount', () => {
  it('picks distinct indices, at most all of them', () => {
    const picked = pickRandom(10, 4, Math.random);
    expect(new Set(picked).size).toBe(4);
    expect(picked.every((i) => i >= 0 && i < 10)).toBe(true);
    expect(pickRandom(3, 9, Math.random).sort()).toEqual([0, 1, 2]);
  });

  it('splits a count over shards in proportion, summing to the count', () => {
    expect(splitCount(10, [5, 5])).toEqual([5, 5]);
    expect(splitCount(7, [10, 10, 10])).toEqual([3, 2, 2]);
    expect(splitCount(3, [100])).toEqual([3]);
    expect(splitCount(5, [0, 0])).toEqual([0, 0]);
  });
});

describe('SampleBuffer', () => {
  it('keeps every sample up to its capacity, then a reservoir of that size', () => {
    const buffer = new SampleBuffer(100);
    for (let i = 0; i < 50; i++) buffer.add(i);
    expect(Array.from(buffer.toArray())).toEqual(Array.from({ length: 50 }, (_, i) => i));
    for (let i = 50; i < 10_000; i++) buffer.add(i);
    expect(buffer.count).toBe(10_000);
    const kept = buffer.toArray();
    expect(kept).toHaveLength(100);
    expect(Math.max(...kept)).toBeGreaterThan(100);
    buffer.clear();
    expect(buffer.toArray()).toHaveLength(0);
  });
});

describe('counters and usage', () => {
  it('sums numbers and tallies over processes', () => {
    const a = { ...emptyCounters(), connected: 2, sent: 10, dropKinds: { '1001': 2 } };
    const b = { ...emptyCounters(), connected: 3, sent: 5, dropKinds: { '1001': 1, ECONNREFUSED: 4 } };
    expect(mergeSimCounters([a, b])).toMatchObject({
      connected: 5,
      sent: 15,
      dropKinds: { '1001': 3, ECONNREFUSED: 4 },
    });
  });

  it('flags a process at 90 % of a core or more as saturated', () => {
    const before = [
      { pid: 1, cpuSeconds: 0, rssBytes: 0 },
      { pid: 2, cpuSeconds: 0, rssBytes: 0 },
    ];
    const after = [
      { pid: 1, cpuSeconds: 9.5, rssBytes: 10 },
      { pid: 2, cpuSeconds: 2, rssBytes: 20 },
    ];
    expect(simUsageSummary(before, after, 10)).toEqual([
      { pid: 1, cpuPercent: 95, peakCpuPercent: 95, rssBytes: 10, saturated: true },
      { pid: 2, cpuPercent: 20, peakCpuPercent: 20, rssBytes: 20, saturated: false },
    ]);
  });
});
