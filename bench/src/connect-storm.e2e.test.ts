import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChartsLinked } from './report/chart-checks.js';
import { runBenchCli } from './report/result-files.js';
import type { StormReport, StormRun } from './scenarios/connect-storm-report.js';

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-connect-storm-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

function expectConsistent(run: StormRun | null, agents: number): void {
  expect(run).not.toBeNull();
  const r = run!;
  expect(r.requested).toBe(agents);
  expect(r.connected).toBe(agents);
  expect(r.attempts).toBeGreaterThanOrEqual(agents);
  expect(r.retries).toBe(r.attempts - agents);
  const failed = Object.values(r.dialErrors).reduce((n, c) => n + c, 0);
  expect(failed).toBe(r.attempts - agents);
  expect(r.refused503).toBe(r.dialErrors['http-503'] ?? 0);
  for (const s of [r.handshakeMs, r.firstReplyMs, r.timeToConnectMs]) expect(s.count).toBe(agents);
  expect(r.timeToFullFleetSeconds).toBeGreaterThan(0);
  expect(r.timeToConnectMs.max / 1000).toBeCloseTo(r.timeToFullFleetSeconds!, 3);
  expect(r.server?.processes).toBe(1);
  expect(Math.max(...r.timeline.connected)).toBe(agents);
}

describe('pnpm bench connect-storm', () => {
  it('storms the gateway with its default admission and the raw baseline, and reports both', async () => {
    const { report, markdown, base, charts } = await runBenchCli<StormReport>(
      ['connect-storm', '--agents', '150', '--timeout', '60'],
      join(outDir, 'storm'),
    );
    expect(report.schema).toBe('opamp-fleet/bench-connect-storm@1');
    expect(report.complete).toBe(true);
    expect(report.environment.cpuCount).toBeGreaterThan(0);
    expect(report.command).toContain('pnpm bench connect-storm --agents 150');
    expectConsistent(report.gateway, 150);
    expectConsistent(report.baseline, 150);
    // The product's admission defaults: no upgrade-rate override reaches the gateway.
    expect(report.gateway?.settings).not.toHaveProperty('MAX_UPGRADES_PER_SECOND');
    expect(Number.isFinite(report.ratios?.timeToFullFleet)).toBe(true);
    expectChartsLinked(base, markdown, charts, ['connected', 'connect-rate', 'latency']);
  });

  it('rejects bad arguments with a usage error before starting anything', async () => {
    await expect(runBenchCli(['connect-storm', '--only', 'both'], join(outDir, 'bad'))).rejects.toMatchObject(
      {
        code: 64,
        stderr: expect.stringContaining('--only must be one of gateway, baseline'),
      },
    );
  });
});
