import { describe, expect, it } from 'vitest';
import { insideApi } from './api-inside.js';

const INF = Number.POSITIVE_INFINITY;
const buckets = (counts: number[]) =>
  [0.001, 0.005, 0.01, 0.025, INF].map((le, i) => ({ le, count: counts[i] ?? 0 }));

describe('insideApi', () => {
  it("judges only the requests between the two scrapes against the budget's bucket bound", () => {
    // before: 10 requests, all within 1 ms; after: 1,000 more, of which 12 above 10 ms
    const before = buckets([10, 10, 10, 10, 10]);
    const after = buckets([700, 960, 998, 1008, 1010]);
    expect(insideApi(before, after, 10)).toEqual({ requests: 1000, overLimitShare: 0.012, p99AtMostMs: 25 });
  });

  it('puts p99 within the budget when at most 1 % lies above it, and past the last bound as null', () => {
    expect(insideApi([], buckets([0, 500, 990, 1000, 1000]), 10).p99AtMostMs).toBe(10);
    expect(insideApi([], buckets([0, 0, 0, 0, 10]), 10)).toEqual({
      requests: 10,
      overLimitShare: 1,
      p99AtMostMs: null,
    });
  });

  it('counts no requests as none over the budget, and needs a bucket bound at the budget', () => {
    expect(insideApi(buckets([5, 5, 5, 5, 5]), buckets([5, 5, 5, 5, 5]), 10)).toEqual({
      requests: 0,
      overLimitShare: 0,
      p99AtMostMs: null,
    });
    expect(() => insideApi([], buckets([1, 1, 1, 1, 1]), 7)).toThrow(RangeError);
  });
});
