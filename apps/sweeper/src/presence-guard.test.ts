import { describe, expect, it } from 'vitest';
import { PresenceGuard } from './presence-guard.js';

const A = { epoch: 'e1', runId: 'r1' };
const GRACE = 60_000;

describe('PresenceGuard', () => {
  it('allows offline transitions while Redis keeps its identity', () => {
    const g = new PresenceGuard(GRACE);
    expect(g.observe(A, 1000)).toBeNull();
    expect(g.observe({ ...A }, 2000)).toBeNull();
    expect(g.offlineAllowed(2000)).toBe(true);
    expect(g.current).toEqual(A);
  });

  it('holds for the grace window after a data loss (new epoch), counted from when it was seen', () => {
    const g = new PresenceGuard(GRACE);
    g.observe(A, 1000);
    expect(g.observe({ epoch: 'e2', runId: 'r2' }, 5000)).toBe('redis_data_lost');
    expect(g.offlineAllowed(5000)).toBe(false);
    expect(g.offlineAllowed(5000 + GRACE - 1)).toBe(false);
    expect(g.offlineAllowed(5000 + GRACE)).toBe(true);
    expect(g.holdState).toEqual({ reason: 'redis_data_lost', untilMs: 5000 + GRACE });
  });

  it('holds after a restart that kept the data (new run_id only)', () => {
    const g = new PresenceGuard(GRACE);
    g.observe(A, 0);
    expect(g.observe({ epoch: 'e1', runId: 'r2' }, 10)).toBe('redis_restarted');
    expect(g.offlineAllowed(10 + GRACE - 1)).toBe(false);
  });

  it('holds once Redis answers again after being unreachable', () => {
    const g = new PresenceGuard(GRACE);
    g.observe(A, 0);
    expect(g.observe(null, 1000)).toBeNull();
    expect(g.observe(null, 2000)).toBeNull();
    expect(g.observe(A, 3000)).toBe('redis_unreachable');
    expect(g.offlineAllowed(3000 + GRACE - 1)).toBe(false);
    expect(g.observe(A, 4000)).toBeNull(); // one hold per outage
    expect(g.offlineAllowed(3000 + GRACE)).toBe(true);
  });

  it('extends, never shortens, a running hold', () => {
    const g = new PresenceGuard(GRACE);
    g.observe(A, 0);
    g.observe({ epoch: 'e2', runId: 'r1' }, 1000);
    g.observe({ epoch: 'e3', runId: 'r1' }, 30_000);
    expect(g.offlineAllowed(1000 + GRACE)).toBe(false);
    expect(g.offlineAllowed(30_000 + GRACE)).toBe(true);
  });

  it('compares the stored baseline at leadership start; none stored means no hold', () => {
    const g = new PresenceGuard(GRACE);
    expect(g.compareBaseline(A, 0)).toBeNull(); // nothing observed yet
    g.observe(A, 0);
    expect(g.compareBaseline(null, 0)).toBeNull();
    expect(g.compareBaseline(A, 0)).toBeNull();
    expect(g.offlineAllowed(0)).toBe(true);
    expect(g.compareBaseline({ epoch: 'e0', runId: 'r1' }, 100)).toBe('redis_changed_unwatched');
    expect(g.offlineAllowed(100 + GRACE - 1)).toBe(false);
    expect(g.offlineAllowed(100 + GRACE)).toBe(true);
  });

  it('a zero grace holds nothing', () => {
    const g = new PresenceGuard(0);
    g.observe(A, 0);
    expect(g.observe({ epoch: 'e2', runId: 'r1' }, 10)).toBe('redis_data_lost');
    expect(g.offlineAllowed(10)).toBe(true);
  });
});
