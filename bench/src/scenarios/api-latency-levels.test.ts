import { describe, expect, it } from 'vitest';
import { concurrencyLevels } from './api-latency.js';

describe('concurrencyLevels', () => {
  it('measures 1, 4 and 16 below the requested concurrency, and the requested one', () => {
    expect(concurrencyLevels(32)).toEqual([1, 4, 16, 32]);
    expect(concurrencyLevels(16)).toEqual([1, 4, 16]);
    expect(concurrencyLevels(8)).toEqual([1, 4, 8]);
    expect(concurrencyLevels(4)).toEqual([1, 4]);
    expect(concurrencyLevels(2)).toEqual([1, 2]);
    expect(concurrencyLevels(1)).toEqual([1]);
  });
});
