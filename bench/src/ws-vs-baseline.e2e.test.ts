import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChartsLinked } from './report/chart-checks.js';
import { runBenchCli } from './report/result-files.js';
import type { ConnectReport, TargetRun } from './report/types.js';

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-ws-vs-baseline-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

function expectTimeline(run: TargetRun | null, agents: number): void {
  const t = run!.timeline;
  expect(t.seconds.length).toBeGreaterThanOrEqual(2);
  for (const column of [t.connected, t.repliesPerSecond, t.errors])
    expect(column).toHaveLength(t.seconds.length);
  expect(Math.max(...t.connected)).toBe(agents);
  expect(run!.heartbeat.latencyPercentilesMs.length).toBeGreaterThan(0);
}

describe('pnpm bench ws-vs-baseline', () => {
  it('runs gateway and baseline under one name, with timelines and linked charts', async () => {
    const { report, markdown, base, charts } = await runBenchCli<ConnectReport>(
      ['ws-vs-baseline', '--agents', '40', '--rounds', '1', '--duration', '1'],
      join(outDir, 'both'),
    );
    expect(report.scenario).toBe('ws-vs-baseline');
    expect(base).toMatch(/^ws-vs-baseline-\d{8}T\d{6}Z-40a$/);
    expect(report.complete).toBe(true);
    expect(markdown).toContain('# ws-vs-baseline: 40 agents');
    expectTimeline(report.gateway, 40);
    expectTimeline(report.baseline, 40);
    expectChartsLinked(base, markdown, charts, ['latency', 'connected', 'throughput']);
  });

  it('keeps connect as an alias', async () => {
    const { report, base } = await runBenchCli<ConnectReport>(
      ['connect', '--only', 'baseline', '--agents', '10', '--rounds', '1', '--duration', '1'],
      join(outDir, 'alias'),
    );
    expect(report.scenario).toBe('connect');
    expect(base).toMatch(/^connect-/);
    expect(report.gateway).toBeNull();
  });
});
