import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from './scenarios/e2e-checks.js';
import type { RestartRun, RollingRestartReport } from './scenarios/rolling-restart-report.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-rolling-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

function expectRunShape(run: RestartRun): void {
  expect(run.connected).toBe(24);
  expect(run.restarts.map((r) => r.server)).toEqual([1, 2]);
  for (const r of run.restarts) {
    expect(r.reconnects).toBeLessThanOrEqual(r.drops);
    expect(r.allReconnectedSeconds).toEqual(expect.any(Number));
    expect(r.stopSeconds).toBeGreaterThanOrEqual(0);
    expect(r.reconnectLatency.summary.count).toBe(r.reconnects);
    expect(Object.values(r.dropKinds).reduce((a, b) => a + b, 0)).toBe(r.drops);
  }
  const reconnects = run.restarts.reduce((sum, r) => sum + r.reconnects, 0);
  expect(reconnects).toBeGreaterThan(0);
  expect(run.reconnectLatency.summary.count).toBe(reconnects);
  expect(run.timeline.t.length).toBe(run.timeline.connected.length);
}

describe('pnpm bench rolling-restart', () => {
  it('restarts two gateways and two echo servers under a small fleet, and writes a well-formed report', async () => {
    const args = [
      'rolling-restart',
      '--agents',
      '24',
      '--gateways',
      '2',
      '--heartbeat',
      '2',
      '--offline-timeout',
      '6',
    ];
    await run(process.execPath, [CLI, ...args, '--settle', '1', '--tail', '2', '--out', outDir], {
      timeout: 60_000,
    });
    const files = await readdir(outDir);
    const json = files.find((f) => f.endsWith('.json'));
    expect(json).toMatch(/^rolling-restart-\d{8}T\d{6}Z-24a\.json$/);
    const report = JSON.parse(await readFile(join(outDir, json!), 'utf8')) as RollingRestartReport;

    expect(report).toMatchObject({
      schema: 'opamp-fleet/bench-rolling-restart@1',
      scenario: 'rolling-restart',
      complete: true,
      settings: {
        agents: 24,
        transport: 'ws',
        heartbeatSeconds: 2,
        offlineTimeoutSeconds: 6,
        tailSeconds: 2,
      },
    });
    expectRunShape(report.gateway);
    expectRunShape(report.baseline!);
    const falseOffline = report.gateway.falseOffline;
    expect(falseOffline.perRestart).toHaveLength(2);
    expect(falseOffline.perRestart.reduce((a, b) => a + b, 0)).toBe(falseOffline.count);
    expect(Object.values(falseOffline.byReason).reduce((a, b) => a + b, 0)).toBe(falseOffline.count);
    expect(falseOffline.offlineFor.summary.count + falseOffline.neverBack).toBe(falseOffline.count);
    expect(report.gateway.onlineAtEnd).toBe(24);
    expect(typeof report.ratios.worstAllReconnected).toBe('number');

    const cluster = report.settings.cluster;
    expect(await leftovers(cluster.database, cluster.redisKeyPrefix)).toEqual({ databases: 0, keys: 0 });
  }, 70_000);
});
