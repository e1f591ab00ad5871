import { describe, expect, it } from 'vitest';
import { deriveLiveness, type LivenessInput, STALE_REASON } from './liveness.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const CUTOFF = NOW - 60_000;
const row = (o: Partial<LivenessInput> & { seen?: number; connected?: number }): LivenessInput => ({
  status: o.status ?? 'online',
  statusReason: o.statusReason ?? 'connected',
  lastSeenAt: o.seen === undefined ? null : new Date(o.seen),
  lastConnectedAt: o.connected === undefined ? null : new Date(o.connected),
});

describe('deriveLiveness', () => {
  it('keeps a fresh online agent online and prefers the later source', () => {
    expect(deriveLiveness(row({ seen: NOW - 5000 }), NOW - 1000, CUTOFF)).toEqual({
      status: 'online',
      stale: false,
      statusReason: 'connected',
      lastSeenMs: NOW - 1000,
      lastSeenSource: 'redis',
    });
    expect(deriveLiveness(row({ seen: NOW - 1000 }), NOW - 5000, CUTOFF)).toMatchObject({
      lastSeenMs: NOW - 1000,
      lastSeenSource: 'postgres',
    });
    expect(deriveLiveness(row({ seen: NOW - 1000 }), undefined, CUTOFF).lastSeenSource).toBe('postgres');
  });

  it('reads an online agent offline once its freshest time is before the cutoff', () => {
    expect(deriveLiveness(row({ seen: NOW - 120_000 }), null, CUTOFF)).toMatchObject({
      status: 'offline',
      stale: true,
      statusReason: STALE_REASON,
    });
    // a fresh Redis score wins over an old Postgres last-seen
    expect(deriveLiveness(row({ seen: NOW - 120_000 }), NOW - 10, CUTOFF).stale).toBe(false);
    // a recent connect counts although no last-seen was recorded yet
    expect(deriveLiveness(row({ connected: NOW - 1000 }), null, CUTOFF).stale).toBe(false);
    expect(deriveLiveness(row({ seen: NOW - 120_000, connected: NOW - 10 }), null, CUTOFF).stale).toBe(false);
    // the boundary: exactly at the cutoff is not stale
    expect(deriveLiveness(row({ seen: CUTOFF }), null, CUTOFF).stale).toBe(false);
    expect(deriveLiveness(row({ seen: CUTOFF - 1 }), null, CUTOFF).stale).toBe(true);
  });

  it('never judges an agent without any time, and never promotes offline or error', () => {
    expect(deriveLiveness(row({}), null, CUTOFF)).toMatchObject({
      status: 'online',
      stale: false,
      lastSeenMs: null,
    });
    for (const status of ['offline', 'error'] as const) {
      expect(deriveLiveness(row({ status, statusReason: 'x' }), NOW, CUTOFF)).toMatchObject({
        status,
        stale: false,
        statusReason: 'x',
      });
    }
  });
});
