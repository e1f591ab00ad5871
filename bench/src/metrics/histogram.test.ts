import { describe, expect, it } from 'vitest';
import { bucketQuantileUpperBound, bucketsDelta } from './histogram.js';

const INF = Number.POSITIVE_INFINITY;

describe('bucketsDelta', () => {
  it('subtracts per bucket and counts buckets new since the first scrape from 0', () => {
    expect(
      bucketsDelta(
        [
          { le: 1, count: 2 },
          { le: INF, count: 5 },
        ],
        [
          { le: 0.5, count: 1 },
          { le: 1, count: 4 },
          { le: INF, count: 9 },
        ],
      ),
    ).toEqual([
      { le: 0.5, count: 1 },
      { le: 1, count: 2 },
      { le: INF, count: 4 },
    ]);
  });
});

describe('bucketQuantileUpperBound', () => {
  const buckets = [
    { le: 0.25, count: 50 },
    { le: 0.5, count: 90 },
    { le: 1, count: 99 },
    { le: 2, count: 99 },
    { le: INF, count: 100 },
  ];

  it.each([
    [0, 0.25],
    [0.5, 0.25],
    [0.51, 0.5],
    [0.9, 0.5],
    [0.99, 1],
    [1, INF],
  ])('q=%s -> le %s', (q, le) => {
    expect(bucketQuantileUpperBound(buckets, q)).toBe(le);
  });

  it('is NaN without observations and rejects a bad quantile', () => {
    expect(bucketQuantileUpperBound([{ le: INF, count: 0 }], 0.5)).toBeNaN();
    expect(bucketQuantileUpperBound([], 0.5)).toBeNaN();
    expect(() => bucketQuantileUpperBound(buckets, 1.5)).toThrow(RangeError);
  });
});
