import { describe, expect, it } from 'vitest';
import type { ConnectOutcome, StreamOutcome } from '../load/types.js';
import { summarize } from '../metrics/stats.js';
import { buildHeartbeatReport, type HeartbeatRawRun } from './heartbeat-build.js';
import { formatHeartbeatMarkdown } from './heartbeat-markdown.js';

const usage = (cpuSeconds: number, peak = cpuSeconds) => ({
  processes: 3,
  cpuSeconds,
  peakProcessCpuSeconds: peak,
  rssBytes: 300 << 20,
});

const connect: ConnectOutcome = {
  requested: 1000,
  connected: 1000,
  failed: 0,
  firstDialAt: 0,
  lastReplyAt: 2000,
  dialErrors: {},
  handshakeMs: [1],
  firstReplyMs: [1],
  badReplies: 0,
  usage: usage(1),
};

const stream: StreamOutcome = {
  sent: 10_000,
  replied: 10_000,
  unanswered: 0,
  skippedInFlight: 3,
  badReplies: 0,
  unexpectedCloses: 0,
  latencyMs: [1, 2, 3],
  sendLagMs: [0.5],
  windowStartedAt: 1_000,
  windowEndedAt: 11_000,
  lastAnswered: { ids: ['a'], sentAt: [10_900] },
  usage: usage(4, 2),
};

const baseline = (rowsPerSecond: number) => ({
  statement: 's',
  statements: 10,
  rows: rowsPerSecond * 2,
  seconds: 2,
  rowsPerSecond,
  statementMs: summarize([100]),
});

function raw(over: Partial<HeartbeatRawRun> = {}): HeartbeatRawRun {
  return {
    command: 'pnpm bench heartbeat-throughput --agents 1000',
    startedAt: new Date('2026-01-01T00:00:00Z'),
    finishedAt: new Date('2026-01-01T00:01:00Z'),
    options: {
      agents: 1000,
      gateways: 2,
      workers: 1,
      heartbeatSeconds: 1,
      jitter: 0.1,
      durationSeconds: 10,
      warmupSeconds: 5,
      baselineSeconds: 2,
      dialConcurrency: 200,
      agentsPerSourceAddress: 5000,
      agentsPerGenerator: 400,
    },
    environment: {
      date: '2026-01-01T00:00:00.000Z',
      cpuModel: 'cpu',
      cpuCount: 2,
      totalMemoryBytes: 1 << 30,
      os: 'Linux',
      nodeVersion: 'v20',
      gitCommit: 'abcdef0123456789',
      gitDirty: false,
      openFileLimit: 20_000,
      loadAverage1m: 0.5,
    },
    servers: { redisKeyPrefix: 'opamp-bench-x:', database: 'bench_x', gateway: {}, worker: {} },
    connect,
    warmup: {
      seconds: 5,
      connectionEventsWritten: 1000,
      eventsDrained: true,
      flushLagSeconds: 0.4,
      flushCaughtUp: true,
    },
    timeline: {
      seconds: [0, 1, 2],
      connected: [0, 1000, 1000],
      repliesPerSecond: [0, 900, 1000],
      errors: [0, 0, 0],
    },
    steady: {
      wallSeconds: 10,
      stream,
      lagSamplesSeconds: [0.4, 0.5, 0.6, 2.5],
      continuousLagSamplesSeconds: [0.5, 1, 1.5, 1.9],
      postgresBehindSeconds: [0, 0.5, 3],
      flush: {
        runs: 20,
        entries: 9000,
        rows: 8000,
        late: 12,
        connectionOpened: 0,
        delayBuckets: [
          { le: 0.5, count: 10 },
          { le: 1, count: 19 },
          { le: Number.POSITIVE_INFINITY, count: 20 },
        ],
      },
      cpu: {
        gateways: { processes: 2, cpuSeconds: 2, cpuPercent: 20 },
        workers: { processes: 1, cpuSeconds: 1, cpuPercent: 10 },
        redis: null,
        postgres: { processes: 3, cpuSeconds: 1, cpuPercent: 10 },
        host: { busyPercent: 95, stealPercent: 0, pressurePercent: 40 },
      },
    },
    freshness: {
      agents: 1000,
      withHeartbeat: 1000,
      fresh: 1000,
      freshFraction: 1,
      toleranceMs: 500,
      missing: 0,
      staleFreshInRedis: 0,
      waitedSeconds: 0.7,
      stalenessMs: summarize([-3, -1]),
    },
    baseline: {
      tableRows: 1000,
      chunkSize: 5000,
      rawUpdate: baseline(40_000),
      flushStatement: baseline(30_000),
    },
    ...over,
  };
}

describe('buildHeartbeatReport', () => {
  const report = buildHeartbeatReport(raw());

  it('derives rates per second of the steady phase', () => {
    expect(report.steady).toMatchObject({
      targetPerSecond: 1000,
      sentPerSecond: 1000,
      repliesPerSecond: 1000,
    });
    expect(report.flush).toMatchObject({ rowsPerSecond: 800, entriesPerSecond: 900, runs: 20, late: 12 });
    expect(report.flush.lagSeconds).toMatchObject({ count: 4, p50: 0.5, max: 2.5 });
    expect(report.flush.postgresBehindSeconds).toMatchObject({ count: 3, p50: 0.5, max: 3 });
    expect(report.flush.delaySeconds).toEqual({ runs: 20, p50UpperBound: 0.5, p99UpperBound: null });
    expect(report.connect.ratePerSecond).toBe(500);
  });

  it('counts heartbeats over the generator window and server counters over the scrape window', () => {
    const r = buildHeartbeatReport(raw({ steady: { ...raw().steady, wallSeconds: 8 } }));
    expect(r.steady).toMatchObject({ seconds: 10, repliesPerSecond: 1000 });
    expect(r.flush).toMatchObject({ seconds: 8, rowsPerSecond: 1000 });
  });

  it('compares with the raw baseline and judges the targets without failing', () => {
    expect(report.ratios).toEqual({ heartbeatsVsRawUpdate: 0.025, flushRowsVsRawUpdate: 0.02 });
    expect(report.targets.heartbeatsPerSecond).toEqual({ target: 20_000, measured: 1000, met: false });
    // judged on the lag read from Redis, not on the gauge's samples
    expect(report.targets.flushLagP99Seconds).toEqual({ target: 2, measured: 1.9, met: true });
    const noContinuous = buildHeartbeatReport(
      raw({ steady: { ...raw().steady, continuousLagSamplesSeconds: [] } }),
    );
    expect(noContinuous.targets.flushLagP99Seconds).toEqual({ target: 2, measured: 2.5, met: false });
    expect(report.targets.postgresBehindP99Seconds).toEqual({ target: 2, measured: 3, met: false });
    expect(report.complete).toBe(true);
  });

  it('splits host CPU into this run and other work, and prices a heartbeat per server group', () => {
    // ours: 2 + 1 + 1 server + 4 generator = 8 CPU s over 10 s on 2 cores = 40 %
    expect(report.cpu.host).toEqual({
      busyPercent: 95,
      stealPercent: 0,
      pressurePercent: 40,
      thisRunPercent: 40,
      otherWorkPercent: 55,
      saturated: true,
    });
    expect(report.cpu.microsPerHeartbeat).toEqual({
      gateways: 200,
      workers: 100,
      redis: null,
      postgres: 100,
      total: 400,
    });
    expect(report.cpu.generator).toMatchObject({
      cpuPercent: 40,
      peakProcessCpuPercent: 20,
      saturated: false,
    });
  });

  it('is incomplete when an agent is not fresh or a heartbeat went unanswered', () => {
    const stale = buildHeartbeatReport(
      raw({ freshness: { ...raw().freshness, fresh: 999, freshFraction: 0.999 } }),
    );
    expect(stale.complete).toBe(false);
    const lost = buildHeartbeatReport(
      raw({ steady: { ...raw().steady, stream: { ...stream, unanswered: 1 } } }),
    );
    expect(lost.complete).toBe(false);
  });
});

describe('formatHeartbeatMarkdown', () => {
  const markdown = formatHeartbeatMarkdown(buildHeartbeatReport(raw()));

  it('shows the headline figures, the baseline, the targets and the reproduce command', () => {
    expect(markdown).toContain('# heartbeat-throughput: 1,000 agents every 1 s, 2 gateways, 1 worker');
    expect(markdown).toContain('commit abcdef012345');
    expect(markdown).toContain('| heartbeats target / sent / answered per s | 1,000 / 1,000 / **1,000** |');
    expect(markdown).toContain(
      '| flush lag p50 / p99 / max (s), worker gauge every 250 ms (set at run starts) | 0.50 / 2.50 / 2.50 (4 samples) |',
    );
    expect(markdown).toContain(
      '| flush lag p50 / p99 / max (s), read from Redis every 250 ms | **1.00 / 1.90 / 1.90** (4 samples) |',
    );
    expect(markdown).toContain(
      '| raw `UPDATE ... FROM unnest` with GREATEST | 40,000 | 10 | 100.0 / 100.0 |',
    );
    expect(markdown).toContain('- sustained heartbeats/s >= 20,000 /s: measured 1,000 /s -> **not met**');
    expect(markdown).toContain('- flush lag p99 (read from Redis) < 2.00 s: measured 1.90 s -> **met**');
    expect(markdown).toContain(
      '- Postgres behind Redis p99 (the same bound, as a reader of Postgres sees it) < 2.00 s: measured 3.00 s -> **not met**',
    );
    expect(markdown).toContain('agents fresh in Postgres | **100.00 %**');
    expect(markdown).toContain('(900 entries/s, 20 runs; 12 entries from the late set) |');
    expect(markdown).toContain('Reproduce: `pnpm bench heartbeat-throughput --agents 1000`');
  });

  it('says when the offered load, not the servers, kept the heartbeat target from being met', () => {
    expect(markdown).not.toContain('Every offered heartbeat was answered');
    const allAnswered = formatHeartbeatMarkdown(
      buildHeartbeatReport(raw({ steady: { ...raw().steady, stream: { ...stream, skippedInFlight: 0 } } })),
    );
    expect(allAnswered).toContain(
      '> Every offered heartbeat was answered: the offered rate (1,000/s) was below the target',
    );
  });

  it('warns about a saturated host and an incomplete run', () => {
    expect(markdown).toContain('> Warning: the host was CPU-saturated');
    expect(markdown).not.toContain('Incomplete run');
    const stale = formatHeartbeatMarkdown(
      buildHeartbeatReport(raw({ freshness: { ...raw().freshness, fresh: 0, freshFraction: 0 } })),
    );
    expect(stale).toContain('> Incomplete run');
  });
});
