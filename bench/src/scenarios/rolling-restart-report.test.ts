import { describe, expect, it } from 'vitest';
import { latencyReport } from '../sim/report-kit.js';
import { leaverOutcome } from './churn-report.js';
import { falseOfflinesPerRestart, worstOf } from './rolling-restart-report.js';
import type { RestartResult } from './rolling-restart-steps.js';

const row = (atMs: number) => ({
  agentId: `a${atMs}`,
  toStatus: 'offline',
  reason: 'gateway_shutdown',
  atMs,
});

describe('falseOfflinesPerRestart', () => {
  it('attributes each transition to the restart whose span holds it', () => {
    const rows = [row(100), row(150), row(200), row(999), row(5000)];
    expect(falseOfflinesPerRestart(rows, [100, 200, 300])).toEqual([2, 1, 2]);
    expect(falseOfflinesPerRestart([row(50)], [100])).toEqual([0]);
    expect(falseOfflinesPerRestart([], [])).toEqual([]);
  });
});

describe('worstOf', () => {
  const restart = (allReconnectedSeconds: number | null): RestartResult => ({
    server: 1,
    atMs: 0,
    stopSeconds: 0,
    startSeconds: 0,
    drops: 0,
    reconnects: 0,
    allReconnectedSeconds,
    dropKinds: {},
    reconnectLatency: latencyReport([]),
  });

  it('is the slowest restart, or null when one never got every agent back', () => {
    expect(worstOf([restart(1.5), restart(3), restart(2)])).toBe(3);
    expect(worstOf([restart(1.5), restart(null)])).toBeNull();
  });
});

describe('leaverOutcome', () => {
  it('counts leavers no longer online and times leave -> status change', () => {
    const left = [
      { id: 'a', mode: 'silent' as const, transport: 'ws' as const, atMs: 1000 },
      { id: 'b', mode: 'silent' as const, transport: 'http' as const, atMs: 2000 },
      { id: 'c', mode: 'silent' as const, transport: 'ws' as const, atMs: 3000 },
    ];
    const status = new Map([
      ['a', { status: 'offline', changedMs: 4000 }],
      ['b', { status: 'online', changedMs: 2100 }],
    ]);
    const outcome = leaverOutcome(left, status);
    expect(outcome).toMatchObject({ left: 3, reachedOffline: 1 });
    expect(outcome.toOffline.summary).toMatchObject({ count: 1, p50: 3000, max: 3000 });
  });
});
