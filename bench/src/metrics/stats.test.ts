import { describe, expect, it } from 'vitest';
import { percentileOfSorted, ratio, summarize } from './stats.js';

describe('percentileOfSorted', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it.each([
    [0, 1],
    [1, 1],
    [50, 50],
    [99, 99],
    [99.5, 100],
    [100, 100],
  ])('p%s of 1..100 is %s (nearest rank)', (p, expected) => {
    expect(percentileOfSorted(hundred, p)).toBe(expected);
  });

  it('returns the only sample for a single-element set', () => {
    expect(percentileOfSorted([7], 99)).toBe(7);
  });

  it('returns NaN for an empty set', () => {
    expect(percentileOfSorted([], 50)).toBeNaN();
  });

  it('rejects percentiles outside 0..100', () => {
    expect(() => percentileOfSorted([1], 101)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('sorts numerically, not lexically', () => {
    const s = summarize([10, 9, 100, 2]);
    expect(s).toEqual({ count: 4, mean: 30.25, p50: 9, p90: 100, p99: 100, max: 100 });
  });

  it('yields count 0 and NaN statistics for no samples', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.max).toBeNaN();
    expect(s.mean).toBeNaN();
  });
});

describe('ratio', () => {
  it('divides finite numbers', () => {
    expect(ratio(3, 2)).toBe(1.5);
  });

  it.each([
    [1, 0],
    [null, 1],
    [1, undefined],
    [Number.NaN, 1],
    [1, Number.POSITIVE_INFINITY],
  ])('is null for %s / %s', (a, b) => {
    expect(ratio(a, b)).toBeNull();
  });
});
