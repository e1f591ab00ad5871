import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChartsLinked } from './report/chart-checks.js';
import { runBenchCli } from './report/result-files.js';
import { leftovers } from './scenarios/e2e-checks.js';
import type { HttpReport, HttpRun } from './scenarios/http-vs-peer-report.js';

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-http-vs-peer-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

function expectWellFormed(run: HttpRun | null, agents: number): void {
  expect(run).not.toBeNull();
  const r = run!;
  expect(r.agentsAnswered).toBe(agents);
  expect(r.errorCount).toBe(0);
  expect(r.polls).toBeGreaterThan(0);
  expect(r.latencyMs.count).toBe(r.polls);
  expect(r.pollsPerSecond).toBeCloseTo(r.polls / r.windowSeconds, 6);
  expect(r.server?.cpuSeconds).toBeGreaterThanOrEqual(0);
  expect(r.generator.processes).toBe(1);
  expect(Math.max(...r.timeline.connected)).toBe(agents);
}

describe('pnpm bench http-vs-peer', () => {
  it('loads our HTTP transport and mockopampserver with the same agents and compares them', async () => {
    const { report, markdown, base, charts } = await runBenchCli<HttpReport>(
      ['http-vs-peer', '--agents', '40', '--generators', '1', '--warmup', '1', '--duration', '2'],
      join(outDir, 'both'),
    );
    expect(report.schema).toBe('opamp-fleet/bench-http-vs-peer@1');
    expect(report.peer).toEqual({ package: '@elastic/mockopampserver', version: '0.5.0' });
    expect(report.complete).toBe(true);
    expectWellFormed(report.gateway, 40);
    expectWellFormed(report.peerRun, 40);
    expect(report.gateway?.backend?.totalCpuMicrosPerPoll).not.toBeUndefined();
    expect(report.peerRun?.backend).toBeNull();
    expect(Number.isFinite(report.ratios?.pollsPerSecond)).toBe(true);
    expect(report.oursAtLeastPeer).toBe(report.ratios!.pollsPerSecond! >= 1);
    expectChartsLinked(base, markdown, charts, ['latency', 'throughput']);
    const settings = report.gateway!.settings;
    expect(await leftovers(String(settings.database), String(settings.redisKeyPrefix))).toEqual({
      databases: 0,
      keys: 0,
    });
  });
});
