import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, parseRetryAfter } from './backoff.js';

const options = { baseMs: 100, capMs: 1000 };

describe('backoffDelay', () => {
  it('retries the first time at once, then within [0, min(cap, base * 2^(n-1)))', () => {
    expect(backoffDelay(0, options, () => 0.99)).toBe(0);
    expect(backoffDelay(1, options, () => 0.5)).toBe(50);
    expect(backoffDelay(2, options, () => 0.5)).toBe(100);
    expect(backoffDelay(4, options, () => 0.999)).toBeCloseTo(799.2);
    expect(backoffDelay(5, options, () => 0.999)).toBeCloseTo(999);
    expect(backoffDelay(60, options, () => 0.5)).toBe(500);
  });

  it('spreads delays over the whole window (full jitter)', () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(3, options, Math.random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(400);
    expect(Math.min(...delays)).toBeLessThan(40);
    expect(Math.max(...delays)).toBeGreaterThan(360);
  });

  it('rejects a negative or fractional attempt', () => {
    expect(() => backoffDelay(-1, options, Math.random)).toThrow(RangeError);
    expect(() => backoffDelay(1.5, options, Math.random)).toThrow(RangeError);
  });
});

describe('Backoff', () => {
  it('grows per retry, starts over after reset, and honours a longer Retry-After', () => {
    const backoff = new Backoff(options, () => 0.5);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([0, 50, 100]);
    expect(backoff.attempts).toBe(3);
    backoff.reset();
    expect(backoff.next()).toBe(0);
    expect(backoff.next(2000)).toBe(2000);
    expect(backoff.next(10)).toBe(100);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(['1'], now)).toBe(1000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });
});
