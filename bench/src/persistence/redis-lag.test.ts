import { describe, expect, it } from 'vitest';
import { flushKeys, lagSeconds } from './redis-lag.js';

describe('flushKeys', () => {
  it('names the last-seen set and its flush watermark under the prefix', () => {
    expect(flushKeys('opamp-bench-x:')).toEqual({
      lastSeen: 'opamp-bench-x:lastseen',
      watermark: 'opamp-bench-x:lastseen:flushed',
    });
  });
});

describe('lagSeconds', () => {
  it('is Redis time minus the oldest unflushed score', () => {
    expect(lagSeconds(['1700000010', '500000'], '1700000009000')).toBeCloseTo(1.5);
  });

  it('is 0 when nothing is unflushed or the score is in the future', () => {
    expect(lagSeconds(['1700000010', '0'], undefined)).toBe(0);
    expect(lagSeconds(['1700000010', '0'], '1700000011000')).toBe(0);
  });
});
