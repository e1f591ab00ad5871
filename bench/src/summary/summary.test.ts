import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatSummary,
  formatValue,
  latestReports,
  measuredCommand,
  rowsOf,
  type StoredReport,
  valueAt,
} from './summary.js';

const environment = {
  cpuModel: 'Test CPU',
  cpuCount: 2,
  nodeVersion: 'v20.20.2',
  os: 'Linux 6',
  gitCommit: 'abcdef0123456789',
  gitDirty: false,
  loadAverage1m: 1.25,
};

const wsReport = (startedAt: string, rate: number, extra: Partial<StoredReport> = {}): StoredReport => ({
  file: 'x.json',
  scenario: 'ws-vs-baseline',
  startedAt,
  complete: true,
  command: 'pnpm bench ws-vs-baseline',
  environment,
  gateway: {
    connect: { connected: 10_000, ratePerSecond: rate },
    heartbeat: { latencyMs: { p50: 0.5, p99: 3.25 } },
    server: { rssPerConnectionBytes: 3072, cpuMicrosPerHeartbeat: 30 },
  },
  baseline: {
    connect: { connected: 10_000, ratePerSecond: 3000 },
    heartbeat: { latencyMs: { p50: 0.25, p99: 2 } },
    server: { rssPerConnectionBytes: 1024, cpuMicrosPerHeartbeat: 15 },
  },
  ...extra,
});

let dir: string | null = null;
afterEach(async () => {
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  dir = null;
});

describe('bench summary', () => {
  it('reads values by dotted path, through arrays', () => {
    expect(valueAt({ a: { b: [{ c: 3 }] } }, 'a.b.0.c')).toBe(3);
    expect(valueAt({ a: 1 }, 'a.b')).toBeUndefined();
  });

  it('formats values by unit', () => {
    expect(formatValue(12_345.6, 'rate')).toBe('12,346/s');
    expect(formatValue(3.254, 'ms')).toBe('3.25 ms');
    expect(formatValue(5086, 'ms')).toBe('5.09 s');
    expect(formatValue(4096, 'kib')).toBe('4.00 KiB');
    expect(formatValue(953_155_584, 'mib')).toBe('909 MiB');
    expect(formatValue(0.5, 'percent')).toBe('50.0 %');
  });

  it('turns a report into rows with the same-run baseline and the ratio', () => {
    const rows = rowsOf(wsReport('2026-11-25T10:00:00.000Z', 2000));
    expect(rows.find((r) => r.figure === 'connect rate (agents/s)')).toEqual({
      scenario: 'ws-vs-baseline',
      figure: 'connect rate (agents/s)',
      value: '2,000/s',
      baseline: '3,000/s',
      ratio: '0.67x',
      target: '',
    });
    expect(rows.find((r) => r.figure === 'RSS per held connection')?.ratio).toBe('3.00x');
  });

  it("gives a scale run's peak gateway RSS, and leaves the rows out of a report that predates it", () => {
    const scale = (rssOverRun?: object): StoredReport => ({
      file: 's.json',
      scenario: 'scale',
      startedAt: '2026-12-07T12:49:47.328Z',
      complete: true,
      gateway: { rssPerConnectionBytes: 2519, ...(rssOverRun ? { rssOverRun } : {}) },
    });
    const peaks = (r: StoredReport) =>
      rowsOf(r)
        .filter((row) => row.figure.startsWith('gateway RSS peak'))
        .map((row) => `${row.figure}=${row.value}`);
    expect(
      peaks(scale({ peakTotalBytes: 953_155_584, peakProcessBytes: 169_240_576, lastTotalBytes: 1 })),
    ).toEqual([
      'gateway RSS peak over the run, all gateways=909 MiB',
      'gateway RSS peak over the run, largest gateway=161 MiB',
    ]);
    expect(peaks(scale())).toEqual([]);
  });

  it('rows per case for case lists, with targets met or not', () => {
    const report: StoredReport = {
      file: 'o.json',
      scenario: 'offline-detection',
      startedAt: '2026-11-25T10:00:00.000Z',
      complete: true,
      cases: [
        {
          profile: 'fast',
          mode: 'silent',
          agents: 1000,
          fromLastMessageMs: { p99: 3373 },
          fromDeadlineMs: { p99: 373 },
        },
        {
          profile: 'fast',
          mode: 'graceful',
          agents: 1000,
          fromLastMessageMs: { p99: 340 },
          fromDeadlineMs: null,
        },
      ],
    };
    const figures = rowsOf(report).map((r) => `${r.figure}=${r.value}`);
    expect(figures).toEqual([
      'fast silent, 1,000 agents: offline after the last message p99=3.37 s',
      'fast silent, 1,000 agents: offline after the deadline p99=373 ms',
      'fast graceful, 1,000 agents: offline after the last message p99=340 ms',
    ]);
  });

  it('keeps the newest complete default run of each scenario and writes one table', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-summary-'));
    const write = (name: string, report: StoredReport) => writeFile(join(dir!, name), JSON.stringify(report));
    await write('a.json', wsReport('2026-11-25T10:00:00.000Z', 1000));
    await write('b.json', wsReport('2026-11-25T11:00:00.000Z', 2000));
    await write('c.json', wsReport('2026-11-25T12:00:00.000Z', 9, { complete: false }));
    await write(
      'd.json',
      wsReport('2026-11-25T13:00:00.000Z', 7, { command: 'pnpm bench ws-vs-baseline --agents 10' }),
    );
    await writeFile(join(dir, 'notes.json'), '{"unrelated": true}');
    const reports = await latestReports(dir);
    expect(reports.map((r) => r.file)).toEqual(['b.json']);
    const text = formatSummary(reports);
    expect(text).toContain('Machine: 2 × Test CPU, Linux 6, Node v20.20.2');
    expect(text).toContain('| ws-vs-baseline | connect rate (agents/s) | 2,000/s | 3,000/s | 0.67x |  |');
    expect(text).toContain(
      '[b.md](b.md) - `pnpm bench ws-vs-baseline`, 2026-11-25T11:00Z, commit abcdef0, load 1.3',
    );
    const calibrated = wsReport('2026-11-25T11:00:00.000Z', 2000, {
      environment: { ...environment, hostSpeed: { roundMedianMs: 22.44 } },
    });
    expect(formatSummary([calibrated])).toContain('commit abcdef0, load 1.3, calibration round 22.4 ms\n');
  });

  it('counts a run whose options only choose where the result goes as a default run', async () => {
    expect(measuredCommand('pnpm bench scale --out bench/results --json')).toBe('pnpm bench scale');
    expect(measuredCommand('pnpm bench scale --out=/tmp/x')).toBe('pnpm bench scale');
    expect(measuredCommand('pnpm bench scale --agents 10 --out r')).toBe('pnpm bench scale --agents 10');
    expect(measuredCommand(undefined)).toBeUndefined();
    dir = await mkdtemp(join(tmpdir(), 'bench-summary-'));
    const write = (name: string, report: StoredReport) => writeFile(join(dir!, name), JSON.stringify(report));
    await write('a.json', wsReport('2026-11-25T10:00:00.000Z', 1000));
    await write(
      'b.json',
      wsReport('2026-11-25T11:00:00.000Z', 2000, {
        command: 'pnpm bench ws-vs-baseline --out bench/results',
      }),
    );
    expect((await latestReports(dir)).map((r) => r.file)).toEqual(['b.json']);
  });
});
