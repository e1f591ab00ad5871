import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from './scenarios/e2e-checks.js';
import type { SteadyRun, SteadyStateReport } from './scenarios/steady-state-report.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-steady-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

function expectRunShape(run: SteadyRun, agents: number): void {
  expect(run.connected).toBe(agents);
  expect(run.msgsPerSecond).toBeGreaterThan(0);
  // at most one message per agent was in flight when the window started
  expect(run.window.delta.answered).toBeLessThanOrEqual(run.window.delta.sent + agents);
  expect(run.window.latency.summary.count).toBeGreaterThan(0);
  expect(run.window.latency.percentiles.length).toBeGreaterThan(0);
  expect(run.timeline.t.length).toBe(run.timeline.connected.length);
  expect(run.timeline.t.length).toBe(run.timeline.msgsPerSecond.length);
  expect(run.timeline.t.length).toBeGreaterThan(0);
  expect(run.window.sim.processes.length).toBeGreaterThan(0);
  expect(typeof run.window.sim.saturated).toBe('boolean');
}

describe('pnpm bench steady-state', () => {
  it('runs a small mixed fleet through the cluster and the echo baseline, and writes a well-formed report', async () => {
    const args = ['steady-state', '--agents', '30', '--heartbeat', '1', '--duration', '4', '--warmup', '1'];
    const { stdout } = await run(
      process.execPath,
      [CLI, ...args, '--baseline-duration', '3', '--out', outDir],
      {
        timeout: 60_000,
      },
    );
    const files = await readdir(outDir);
    const json = files.find((f) => f.endsWith('.json'));
    expect(json).toMatch(/^steady-state-\d{8}T\d{6}Z-30a\.json$/);
    expect(files.filter((f) => f.endsWith('.svg')).sort()).toEqual([
      json!.replace('.json', '.connected.svg'),
      json!.replace('.json', '.latency.svg'),
    ]);
    const md = files.find((f) => f.endsWith('.md'));
    expect(stdout).toBe(await readFile(join(outDir, md!), 'utf8'));
    const report = JSON.parse(await readFile(join(outDir, json!), 'utf8')) as SteadyStateReport;

    expect(report).toMatchObject({
      schema: 'opamp-fleet/bench-steady-state@1',
      scenario: 'steady-state',
      complete: true,
      settings: { agents: 30, transport: 'mix', heartbeatSeconds: 1, durationSeconds: 4 },
    });
    expect(report.command).toContain('steady-state --agents 30');
    expect(report.environment.nodeVersion).toBe(process.version);
    expectRunShape(report.gateway, 30);
    expectRunShape(report.baseline!, 30);
    expect(report.gateway.transport).toBe('mix');
    expect(report.baseline!.transport).toBe('ws');
    expect(report.gateway.onlineInPostgres).toBe(30);
    expect(report.gateway.falseOfflineTransitions).toMatchObject({ count: expect.any(Number) });
    expect(Object.keys(report.gateway.window.servers).sort()).toEqual(['gateways', 'sweepers', 'workers']);
    expect(report.baseline!.window.servers.echo?.processes).toBe(2);
    expect(typeof report.ratios.msgsPerSecond).toBe('number');
    expect(typeof report.ratios.latencyP99).toBe('number');

    const cluster = report.settings.cluster!;
    expect(cluster).toMatchObject({ gateways: 2, workers: 1, sweepers: 2 });
    expect(await leftovers(cluster.database, cluster.redisKeyPrefix)).toEqual({ databases: 0, keys: 0 });
  }, 70_000);
});
