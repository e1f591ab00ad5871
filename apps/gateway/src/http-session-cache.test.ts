import { describe, expect, it } from 'vitest';
import { type CachedHttpSession, HttpSessionCache } from './http-session-cache.js';

const entry = (seq: number): CachedHttpSession => ({
  seq,
  capabilities: 1,
  remoteAddress: '10.0.0.1',
  lastRequestId: `r${seq}`,
});

describe('HttpSessionCache', () => {
  it('keeps at most maxEntries, dropping the least recently stored first', () => {
    const cache = new HttpSessionCache(2);
    cache.set('a', entry(1));
    cache.set('b', entry(1));
    cache.set('a', entry(2)); // a is now the newest
    cache.set('c', entry(1)); // over the bound: b goes
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.seq).toBe(2);
    expect(cache.get('c')?.seq).toBe(1);
  });

  it('forgets one agent or all of them', () => {
    const cache = new HttpSessionCache();
    cache.set('a', entry(1));
    cache.set('b', entry(1));
    cache.delete('a');
    cache.delete('never-seen');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(1);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('refuses a bound that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new HttpSessionCache(bad)).toThrow(RangeError);
  });
});
