import { describe, expect, it } from 'vitest';
import type { ConnectOutcome, RoundOutcome } from '../load/types.js';
import { buildRatios, buildTargetRun, isComplete, phaseUsage, type RawTargetRun } from './build.js';
import { fmt, formatConnectMarkdown } from './markdown.js';
import { CONNECT_REPORT_SCHEMA, type ConnectReport, type TargetRun } from './types.js';
import { resultBaseName } from './write.js';

const usage = (cpuSeconds: number) => ({
  processes: 1,
  cpuSeconds,
  peakProcessCpuSeconds: cpuSeconds,
  rssBytes: 1 << 20,
});

function raw(target: 'gateway' | 'baseline', scale: number): RawTargetRun {
  const connect: ConnectOutcome = {
    requested: 100,
    connected: 100,
    failed: 0,
    firstDialAt: 10_000,
    lastReplyAt: 10_000 + 500 * scale,
    dialErrors: {},
    handshakeMs: [1, 2, 3],
    firstReplyMs: [0.5],
    badReplies: 0,
    usage: usage(0.25),
  };
  const heartbeat: RoundOutcome = {
    sent: 200,
    replied: 200,
    unanswered: 0,
    badReplies: 0,
    unexpectedCloses: 0,
    latencyMs: Array.from({ length: 100 }, (_, i) => (i + 1) * scale),
    usage: usage(0.5),
  };
  return {
    target,
    url: 'ws://127.0.0.1:1/v1/opamp',
    settings: { processes: 1 },
    connect,
    connectWallSeconds: 0.5 * scale,
    heartbeat,
    rounds: 2,
    windowSeconds: 1,
    heartbeatWallSeconds: 2,
    timeline: {
      seconds: [0, 1, 2],
      connected: [0, 100, 100],
      repliesPerSecond: [0, 100, 100],
      errors: [0, 0, 0],
    },
    server: {
      processes: 1,
      rssBeforeBytes: 40 * 1024 * 1024,
      rssAfterConnectBytes: 41 * 1024 * 1024,
      rssAfterBytes: 40 * 1024 * 1024 + 100 * 1024 * scale,
      cpuSecondsBefore: 1,
      cpuSecondsAfterConnect: 1.5,
      cpuSecondsAfter: 2,
    },
  };
}

function report(gateway: TargetRun | null, baseline: TargetRun | null): ConnectReport {
  return {
    schema: CONNECT_REPORT_SCHEMA,
    scenario: 'connect',
    command: 'pnpm bench connect --agents 100',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:01:00.000Z',
    options: {
      agents: 100,
      gateways: 1,
      durationSeconds: 2,
      rounds: 2,
      dialConcurrency: 200,
      agentsPerSourceAddress: 5000,
      agentsPerGenerator: 19_000,
      target: null,
    },
    environment: {
      date: '2025-01-01T00:00:00.000Z',
      cpuModel: 'Test CPU',
      cpuCount: 2,
      totalMemoryBytes: 8 * 1024 ** 3,
      os: 'Linux 6.1',
      nodeVersion: 'v20.20.2',
      gitCommit: '0123456789abcdef0123',
      gitDirty: false,
      openFileLimit: 20_000,
      loadAverage1m: 0.5,
    },
    gateway,
    baseline,
    ratios: buildRatios(gateway, baseline),
    complete: true,
  };
}

describe('buildTargetRun', () => {
  it('derives rates, summaries and per-connection RSS', () => {
    const run = buildTargetRun(raw('gateway', 2));
    expect(run.connect.durationSeconds).toBe(1);
    expect(run.connect.ratePerSecond).toBe(100);
    expect(run.connect.handshakeMs.p50).toBe(2);
    expect(run.heartbeat.repliesPerSecond).toBe(100);
    expect(run.heartbeat.latencyMs).toMatchObject({ count: 100, p50: 100, p99: 198, max: 200 });
    expect(run.server?.rssPerConnectionBytes).toBe(2048);
    expect(run.server?.cpuSecondsConnect).toBe(0.5);
    expect(run.server?.cpuSecondsHeartbeat).toBe(0.5);
    expect(run.server?.cpuMicrosPerConnect).toBe(5000);
    expect(run.server?.cpuMicrosPerHeartbeat).toBe(2500);
    expect(run.generator.connect).toEqual({
      wallSeconds: 1,
      cpuSeconds: 0.25,
      cpuPercent: 25,
      peakProcessCpuPercent: 25,
    });
    expect(run.generator.saturated).toBe(false);
    expect(isComplete(run)).toBe(true);
  });

  it('flags a saturated generator, but not for phases too short to judge', () => {
    const busy = raw('baseline', 1);
    busy.heartbeat.usage = usage(1.9);
    expect(buildTargetRun(busy).generator.saturated).toBe(true);
    const short = raw('baseline', 1);
    short.connect.usage = usage(0.5);
    expect(buildTargetRun(short).generator.saturated).toBe(false);
  });

  it('has no rate when nothing connected and no server figures for an external target', () => {
    const r = raw('gateway', 1);
    r.connect = { ...r.connect, connected: 0, failed: 100, lastReplyAt: r.connect.firstDialAt };
    r.server = null;
    const run = buildTargetRun(r);
    expect(run.connect.ratePerSecond).toBeNull();
    expect(run.server).toBeNull();
    expect(isComplete(run)).toBe(false);
  });

  it('is incomplete when a heartbeat went unanswered', () => {
    const r = raw('gateway', 1);
    r.heartbeat = { ...r.heartbeat, replied: 199, unanswered: 1 };
    expect(isComplete(buildTargetRun(r))).toBe(false);
  });
});

describe('phaseUsage', () => {
  it('reports 0 % for a zero-length phase', () => {
    expect(phaseUsage(usage(1), 0).cpuPercent).toBe(0);
  });
});

describe('buildRatios', () => {
  it('divides gateway by baseline', () => {
    const ratios = buildRatios(buildTargetRun(raw('gateway', 2)), buildTargetRun(raw('baseline', 1)));
    expect(ratios).toEqual({
      connectRate: 0.5,
      latencyP50: 2,
      latencyP99: 2,
      rssPerConnection: 2,
      cpuPerConnect: 1,
      cpuPerHeartbeat: 1,
    });
  });

  it('is null without both runs', () => {
    expect(buildRatios(null, buildTargetRun(raw('baseline', 1)))).toBeNull();
  });
});

describe('formatConnectMarkdown', () => {
  it('tabulates both targets with ratios and the reproducing command', () => {
    const md = formatConnectMarkdown(
      report(buildTargetRun(raw('gateway', 2)), buildTargetRun(raw('baseline', 1))),
    );
    expect(md).toContain('# connect: 100 agents, 1 server process per target');
    expect(md).toContain('commit 0123456789ab ·');
    expect(md).toContain('· 8 GiB · load 0.50');
    expect(md).not.toContain('calibration'); // a report that predates the reading
    const measured = report(buildTargetRun(raw('gateway', 2)), buildTargetRun(raw('baseline', 1)));
    measured.environment.hostSpeed = { rounds: 7, roundMedianMs: 22.44, roundMinMs: 20.06 };
    expect(formatConnectMarkdown(measured)).toContain(
      '· load 0.50 · calibration round 22.4 ms (fastest 20.1)',
    );
    expect(md).toContain('| | gateway | baseline (raw uWS echo) | gateway / baseline |');
    expect(md).toContain('| connect rate (agents/s) | 100 | 200 | 0.50x |');
    expect(md).toContain('| heartbeat latency p99 (ms) | 198.00 | 99.00 | 2.00x |');
    expect(md).toContain('| server RSS per connection (KiB) | 2.00 | 1.00 | 2.00x |');
    expect(md).toContain('| server CPU per connect (µs) | 5,000 | 5,000 | 1.00x |');
    expect(md).toContain('| errors | none | none | |');
    expect(md).toContain('Reproduce: `pnpm bench connect --agents 100`');
    expect(md).not.toContain('Warning');
    expect(md).not.toContain('Incomplete');
  });

  it('shows one target without a ratio column, and warns about saturation, errors and incompleteness', () => {
    const r = raw('baseline', 1);
    r.heartbeat = { ...r.heartbeat, usage: usage(1.9), unanswered: 3, replied: 197 };
    r.connect = { ...r.connect, dialErrors: { 'http-503': 4 }, failed: 1, connected: 99 };
    r.server = null;
    const md = formatConnectMarkdown({ ...report(null, buildTargetRun(r)), complete: false });
    expect(md).toContain('| | baseline (raw uWS echo) |\n|---|---:|\n');
    expect(md).toContain('| server RSS per connection (KiB) | n/a |');
    expect(md).toContain('| errors | dial: http-503 4; not connected 1; unanswered 3 |');
    expect(md).toContain('Warning: a generator process was saturated');
    expect(md).toContain('Incomplete run');
  });
});

describe('fmt', () => {
  it.each([
    [1234.5, 1, '1,234.5'],
    [Number.NaN, 0, 'n/a'],
    [null, 0, 'n/a'],
    [0.126, 2, '0.13'],
  ])('fmt(%s, %s) = %s', (n, digits, expected) => {
    expect(fmt(n, digits)).toBe(expected);
  });
});

describe('resultBaseName', () => {
  it('is sortable and names the fleet size', () => {
    expect(resultBaseName('connect', new Date('2025-03-04T05:06:07.890Z'), 10_000)).toBe(
      'connect-20250304T050607Z-10000a',
    );
  });
});
