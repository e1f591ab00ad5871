import { describe, expect, it } from 'vitest';
import { isAlive } from './job-worker.js';

describe('isAlive', () => {
  const base = { running: true, runnable: 0, idleMs: 0, waitingMs: 0, stuckAfterMs: 1000 };
  it('is alive while idle with nothing to do, however long', () => {
    expect(isAlive({ ...base, idleMs: 1e9 })).toBe(true);
  });
  it('is alive while jobs wait and it made progress recently', () => {
    expect(isAlive({ ...base, runnable: 5, idleMs: 1000 })).toBe(true);
  });
  it('is not alive when jobs have waited and it made no progress, both for too long', () => {
    expect(isAlive({ ...base, runnable: 1, idleMs: 1001, waitingMs: 1001 })).toBe(false);
  });
  it('is alive when work just arrived after a long idle time (or a Redis outage)', () => {
    expect(isAlive({ ...base, runnable: 100, idleMs: 1e9, waitingMs: 0 })).toBe(true);
  });
  it('is not alive when its loop stopped', () => {
    expect(isAlive({ ...base, running: false })).toBe(false);
  });
});
