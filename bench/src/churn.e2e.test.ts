import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChurnReport } from './scenarios/churn-report.js';
import { leftovers } from './scenarios/e2e-checks.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-churn-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('pnpm bench churn', () => {
  it('churns a small mixed fleet, follows the leavers to offline, and writes a well-formed report', async () => {
    const args = [
      'churn',
      '--agents',
      '30',
      '--heartbeat',
      '1',
      '--duration',
      '5',
      '--churn-per-minute',
      '120',
    ];
    await run(process.execPath, [CLI, ...args, '--offline-timeout', '3', '--out', outDir], {
      timeout: 60_000,
    });
    const files = await readdir(outDir);
    const json = files.find((f) => f.endsWith('.json'));
    expect(json).toMatch(/^churn-\d{8}T\d{6}Z-30a\.json$/);
    expect(files.filter((f) => f.endsWith('.svg'))).toHaveLength(3);
    const report = JSON.parse(await readFile(join(outDir, json!), 'utf8')) as ChurnReport;

    expect(report).toMatchObject({
      schema: 'opamp-fleet/bench-churn@1',
      scenario: 'churn',
      connected: 30,
      settings: { agents: 30, churnPerMinute: 120, offlineTimeoutSeconds: 3, transport: 'mix' },
    });
    const a = report.achieved;
    const left = a.leftGraceful + a.leftSilent;
    expect(left).toBeGreaterThanOrEqual(8);
    expect(Math.abs(a.leftGraceful - a.leftSilent)).toBeLessThanOrEqual(1);
    expect(a.joined).toBe(left);
    expect(a.leftPerMinute).toBeGreaterThan(0);
    const offline = report.offline!;
    expect(offline.graceful.left).toBe(a.leftGraceful);
    expect(offline.silent.left).toBe(a.leftSilent);
    for (const o of [offline.graceful, offline.silent]) {
      expect(o.reachedOffline).toBeLessThanOrEqual(o.left);
      expect(o.toOffline.summary.count).toBe(o.reachedOffline);
    }
    const alive = report.aliveOnline!;
    expect(alive.alive).toBe(30);
    expect(alive.notOnline).toHaveLength(Math.min(20, alive.alive - alive.online));
    expect(report.complete).toBe(alive.online === 30);
    expect(typeof report.falseOfflineTransitions).toBe('number');
    const history = report.history!;
    // every agent ever created is one HTTP session or at least one WebSocket connection
    expect(history.expected.ws + history.expected.http).toBeGreaterThanOrEqual(30 + a.joined);
    expect(history.written.closed).toBeLessThanOrEqual(
      Object.values(history.written.rows).reduce((x, y) => x + y, 0),
    );
    expect(report.timeline.t.length).toBe(report.timeline.connected.length);
    expect(report.window.latency.summary.count).toBeGreaterThan(0);

    const cluster = report.settings.cluster!;
    expect(await leftovers(cluster.database, cluster.redisKeyPrefix)).toEqual({ databases: 0, keys: 0 });
  }, 70_000);
});
