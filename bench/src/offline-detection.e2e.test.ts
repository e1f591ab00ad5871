import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, numbersIn } from './scenarios/e2e-checks.js';
import type { OfflineDetectionReport } from './scenarios/offline-detection-report.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-offline-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('pnpm bench offline-detection', () => {
  it('detects 3 silent and 3 graceful agents in the fast profile, reports, and cleans up', async () => {
    const args = ['offline-detection', '--profile', 'fast', '--agents', '3', '--out', outDir];
    // the CLI gets SIGTERM before the test times out, so it can still remove what it created
    const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 100_000 });
    const files = await readdir(outDir);
    const json = files.find((f) => f.endsWith('.json'));
    const md = files.find((f) => f.endsWith('.md'));
    expect(json).toMatch(/^offline-detection-\d{8}T\d{6}Z-3a\.json$/);
    const report = JSON.parse(await readFile(join(outDir, json!), 'utf8')) as OfflineDetectionReport;
    expect(stdout).toBe(await readFile(join(outDir, md!), 'utf8'));

    expect(report).toMatchObject({
      schema: 'opamp-fleet/bench-offline-detection@2',
      scenario: 'offline-detection',
      complete: true,
      command: `pnpm bench ${args.join(' ')}`,
      failures: [],
    });
    expect(report.environment.nodeVersion).toBe(process.version);
    expect(report.cases.map((c) => [c.profile, c.mode, c.agents])).toEqual([
      ['fast', 'silent', 3],
      ['fast', 'graceful', 3],
    ]);
    const [silent, graceful] = report.cases;
    expect(silent?.reasons).toEqual({ heartbeat_timeout: 3 });
    expect(graceful?.reasons).toEqual({ agent_disconnect: 3 });
    expect(graceful?.fromDeadlineMs).toBeNull();
    for (const c of report.cases) {
      expect(c.detectedFraction).toBe(1);
      expect(c.fromLastMessageMs.count).toBe(3);
      // every agent has its offline transition, decided before it was seen
      expect(c.toDecisionMs.count).toBe(3);
      expect(c.decisionToVisibleMs.count).toBe(3);
      expect(c.decisionToVisibleMs.p50).toBeGreaterThanOrEqual(0);
      expect(c.rawUpdateMs).toBeGreaterThan(0);
      expect(c.lastMessageSpanMs).toBeGreaterThanOrEqual(0);
      expect(c.lastMessageSpanMs).toBeLessThan(60_000);
      for (const [path, n] of numbersIn({
        fromLastMessageMs: c.fromLastMessageMs,
        fromDeadlineMs: c.fromDeadlineMs ?? {},
        toDecisionMs: c.toDecisionMs,
        decisionToVisibleMs: c.decisionToVisibleMs,
        rawUpdateMs: c.rawUpdateMs,
        p99OverRawUpdate: c.p99OverRawUpdate,
      })) {
        expect(Number.isFinite(n), `${c.mode}${path} = ${n}`).toBe(true);
      }
      expect(c.target.length).toBeGreaterThan(0);
      for (const t of c.target) expect(typeof t.met).toBe('boolean');
      expect(c.servers.database).toMatch(/^bench_[0-9a-f]{12}$/);
      expect(await leftovers(c.servers.database, c.servers.redisKeyPrefix)).toEqual({
        databases: 0,
        keys: 0,
      });
    }
    // silent agents cannot be found before their deadline minus the clock skew between processes
    expect(silent!.fromLastMessageMs.p50).toBeGreaterThan(2500);
  }, 120_000);
});
