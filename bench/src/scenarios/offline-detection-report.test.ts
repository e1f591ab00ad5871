import { describe, expect, it } from 'vitest';
import {
  buildOfflineCase,
  formatOfflineMarkdown,
  type OfflineDetectionReport,
} from './offline-detection-report.js';

const servers = { database: 'bench_000000000000', redisKeyPrefix: 'opamp-bench-x:' };

describe('buildOfflineCase', () => {
  it('measures silent loss from the last heartbeat and from the deadline, skipping undetected agents', () => {
    const c = buildOfflineCase({
      profile: 'fast',
      mode: 'silent',
      lastSentMs: [1000, 2000, 3000, 4000],
      offlineSeenMs: [4200, 5500, 6100, Number.NaN],
      decidedMs: [4100, 5300, Number.NaN, Number.NaN],
      reasons: { heartbeat_timeout: 3 },
      rawUpdateMs: 2,
      pollIntervalMs: 50,
      servers,
    });
    expect(c.detectedFraction).toBe(0.75);
    expect(c.fromLastMessageMs).toMatchObject({ count: 3, p50: 3200, max: 3500 });
    expect(c.fromDeadlineMs).toMatchObject({ count: 3, p50: 200, p99: 500 });
    // the third agent has no transition row: left out of the split, not of the detection
    expect(c.toDecisionMs).toMatchObject({ count: 2, p50: 3100, max: 3300 });
    expect(c.decisionToVisibleMs).toMatchObject({ count: 2, p50: 100, max: 200 });
    expect(c.lastMessageSpanMs).toBe(3000); // every agent's last message counts, detected or not
    expect(c.p99OverRawUpdate).toBe(250);
    expect(c.target).toEqual([
      { name: 'silent loss p99 from last heartbeat', limitMs: 5000, p99Ms: 3500, met: true },
      { name: 'deadline to offline p99', limitMs: 2000, p99Ms: 500, met: true },
    ]);
  });

  it('measures graceful loss from the goodbye, with no deadline figures', () => {
    const c = buildOfflineCase({
      profile: 'fast',
      mode: 'graceful',
      lastSentMs: [1000, 1250],
      offlineSeenMs: [1350, 2750],
      decidedMs: [1040, 2300],
      reasons: { agent_disconnect: 2 },
      rawUpdateMs: 0.5,
      pollIntervalMs: 50,
      servers,
    });
    expect(c.detectedFraction).toBe(1);
    expect(c.fromDeadlineMs).toBeNull();
    expect(c.lastMessageSpanMs).toBe(250);
    expect(c.toDecisionMs).toMatchObject({ count: 2, p50: 40, max: 1050 });
    expect(c.decisionToVisibleMs).toMatchObject({ count: 2, p50: 310, max: 450 });
    expect(c.p99OverRawUpdate).toBe(3000);
    expect(c.target).toEqual([{ name: 'graceful close p99', limitMs: 1000, p99Ms: 1500, met: false }]);
  });

  it('has no ratio and no silent-from-heartbeat target when nothing was detected in the default profile', () => {
    const c = buildOfflineCase({
      profile: 'default',
      mode: 'silent',
      lastSentMs: [1000],
      offlineSeenMs: [Number.NaN],
      decidedMs: [Number.NaN],
      reasons: {},
      rawUpdateMs: 1,
      pollIntervalMs: 50,
      servers,
    });
    expect(c.detectedFraction).toBe(0);
    expect(c.p99OverRawUpdate).toBeNull();
    expect(c.target.map((t) => [t.name, t.met])).toEqual([['deadline to offline p99', false]]);
  });
});

describe('formatOfflineMarkdown', () => {
  it('prints one row per case, the targets and the failures', () => {
    const report: OfflineDetectionReport = {
      schema: 'opamp-fleet/bench-offline-detection@2',
      scenario: 'offline-detection',
      startedAt: '2026-01-01T00:00:00.000Z',
      complete: false,
      command: 'pnpm bench offline-detection',
      environment: {
        date: '2026-01-01T00:00:00.000Z',
        cpuModel: 'cpu',
        cpuCount: 2,
        totalMemoryBytes: 2 ** 30,
        os: 'Linux',
        nodeVersion: 'v20',
        gitCommit: 'abc',
        gitDirty: false,
        openFileLimit: 1024,
        loadAverage1m: 1.5,
      },
      settings: { sweepers: 2 },
      cases: [
        buildOfflineCase({
          profile: 'fast',
          mode: 'graceful',
          lastSentMs: [0],
          offlineSeenMs: [120],
          decidedMs: [30],
          reasons: { agent_disconnect: 1 },
          rawUpdateMs: 1,
          pollIntervalMs: 50,
          servers,
        }),
      ],
      failures: [{ profile: 'fast', mode: 'silent', agents: 10_000, error: 'boom' }],
    };
    const md = formatOfflineMarkdown(report);
    expect(md).toContain('| fast (1/3 s) | graceful | 1 | 100.0 % | 120 | 120 | 120 | n/a |');
    expect(md).toContain('- fast graceful 1: graceful close p99 120 ms (target < 1000) met');
    expect(md).toContain('| fast | graceful | 1 | 0 | 30 | 30 | 90 | 90 |');
    expect(md).toContain('- FAILED fast silent 10000: boom');
    expect(md).toContain('· load 1.50');
  });
});
