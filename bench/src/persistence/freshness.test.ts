import { describe, expect, it } from 'vitest';
import { countFreshInRedis, freshnessToleranceMs, judgeFreshness } from './freshness.js';

describe('judgeFreshness', () => {
  it('counts agents whose last_seen_at is at most the tolerance behind their last heartbeat', () => {
    const result = judgeFreshness(
      5,
      { ids: ['a', 'b', 'c', 'd'], sentAt: [10_000, 10_000, 10_000, 10_000] },
      new Map<string, number | null>([
        ['a', 10_003], // seen after the send: fresh
        ['b', 9_500], // 500 ms behind: within the tolerance
        ['c', 8_000], // 2 s behind: stale
        ['d', null], // no value: missing
      ]),
      500,
    );
    expect(result).toMatchObject({
      agents: 5,
      withHeartbeat: 4,
      fresh: 2,
      freshFraction: 0.4, // the fifth agent never heartbeated
      toleranceMs: 500,
      missing: 1,
    });
    expect(result.stalenessMs).toMatchObject({ count: 3, p50: 500, max: 2000 });
    expect(result.stale).toEqual({ ids: ['c', 'd'], sentAt: [10_000, 10_000] });
  });

  it('yields fraction 0 for no agents', () => {
    expect(judgeFreshness(0, { ids: [], sentAt: [] }, new Map(), 1).freshFraction).toBe(0);
  });
});

describe('countFreshInRedis', () => {
  it('counts stale agents whose Redis last-seen is within the tolerance of their last heartbeat', () => {
    const stale = { ids: ['a', 'b', 'c'], sentAt: [10_000, 10_000, 10_000] };
    expect(countFreshInRedis(stale, [10_002, 9_000, null], 500)).toBe(1);
  });
});

describe('freshnessToleranceMs', () => {
  it('is half an interval, at most 2 s', () => {
    expect(freshnessToleranceMs(1)).toBe(500);
    expect(freshnessToleranceMs(30)).toBe(2000);
  });
});
