import { describe, expect, it } from 'vitest';
import { dueCount, jitteredInterval, shardRanges, sourceAddressFor } from './schedule.js';

describe('sourceAddressFor', () => {
  it('packs agents per address starting at 127.0.0.2', () => {
    expect(sourceAddressFor(0, 5000)).toBe('127.0.0.2');
    expect(sourceAddressFor(4999, 5000)).toBe('127.0.0.2');
    expect(sourceAddressFor(5000, 5000)).toBe('127.0.0.3');
  });

  it('carries into the next octet', () => {
    expect(sourceAddressFor(254 * 10, 10)).toBe('127.0.1.0');
    expect(sourceAddressFor(253 * 10, 10)).toBe('127.0.0.255');
  });

  it('rejects bad input', () => {
    expect(() => sourceAddressFor(-1, 10)).toThrow(RangeError);
    expect(() => sourceAddressFor(0, 0)).toThrow(RangeError);
    expect(() => sourceAddressFor(0x1_00_00_00, 1)).toThrow(RangeError);
  });
});

describe('dueCount', () => {
  it.each([
    [0, 0],
    [-5, 0],
    [250, 25],
    [999, 99],
    [1000, 100],
    [5000, 100],
  ])('at %s ms of 1000 ms, %s of 100 are due', (elapsed, expected) => {
    expect(dueCount(100, elapsed, 1000)).toBe(expected);
  });

  it('sends everything at once for an empty window', () => {
    expect(dueCount(7, 0, 0)).toBe(7);
  });
});

describe('shardRanges', () => {
  it('keeps a small fleet in one shard', () => {
    expect(shardRanges(10_000, 19_000)).toEqual([{ start: 0, end: 10_000 }]);
  });

  it('splits evenly and covers every index once', () => {
    const ranges = shardRanges(50_001, 19_000);
    expect(ranges).toHaveLength(3);
    expect(ranges[0]?.start).toBe(0);
    expect(ranges.at(-1)?.end).toBe(50_001);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]?.start).toBe(ranges[i - 1]?.end);
    for (const r of ranges) expect(r.end - r.start).toBeLessThanOrEqual(19_000);
  });

  it('returns no shards for no agents', () => {
    expect(shardRanges(0, 10)).toEqual([]);
  });
});

describe('jitteredInterval', () => {
  it.each([
    [0, 900],
    [0.5, 1000],
    [0.999_999, 1100],
  ])('scales 1000 ms by 1 ± 10%% (random %s -> ~%s)', (r, expected) => {
    expect(jitteredInterval(1000, 0.1, () => r)).toBeCloseTo(expected, 2);
  });

  it('is the interval itself without jitter', () => {
    expect(jitteredInterval(250, 0, () => 0.9)).toBe(250);
  });

  it('rejects a bad interval or jitter', () => {
    expect(() => jitteredInterval(0, 0.1, Math.random)).toThrow(RangeError);
    expect(() => jitteredInterval(1000, 1, Math.random)).toThrow(RangeError);
    expect(() => jitteredInterval(1000, -0.1, Math.random)).toThrow(RangeError);
  });
});
