import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiLatencyReport } from './scenarios/api-latency-report.js';
import { leftovers, numbersIn } from './scenarios/e2e-checks.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-api-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('pnpm bench api-latency', () => {
  it('loads the API and the raw reads of a 500-agent fleet, reports, and cleans up', async () => {
    const args = ['api-latency', '--agents', '500', '--duration', '2', '--concurrency', '4', '--out', outDir];
    const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 100_000 });
    const files = await readdir(outDir);
    const json = files.find((f) => f.endsWith('.json'));
    const md = files.find((f) => f.endsWith('.md'));
    expect(json).toMatch(/^api-latency-\d{8}T\d{6}Z-500a\.json$/);
    const report = JSON.parse(await readFile(join(outDir, json!), 'utf8')) as ApiLatencyReport;
    expect(stdout).toBe(await readFile(join(outDir, md!), 'utf8'));

    expect(report).toMatchObject({
      schema: 'opamp-fleet/bench-api-latency@1',
      scenario: 'api-latency',
      complete: true,
      command: `pnpm bench ${args.join(' ')}`,
      fleet: { agents: 500, online: 300, offline: 200 },
      settings: { concurrency: 4, durationSeconds: 2 },
    });
    expect(report.endpoints).toHaveLength(2);
    for (const e of report.endpoints) {
      for (const side of [e.api, e.raw]) {
        expect(side.requests).toBeGreaterThan(0);
        expect(side.errors).toBe(0);
      }
      for (const [path, n] of numbersIn({ api: e.api, raw: e.raw, p99OverRaw: e.p99OverRaw })) {
        expect(Number.isFinite(n), `${e.endpoint}${path} = ${n}`).toBe(true);
      }
      expect(typeof e.target.met).toBe('boolean');
    }
    expect(report.servers.database).toMatch(/^bench_[0-9a-f]{12}$/);
    expect(await leftovers(report.servers.database, report.servers.redisKeyPrefix)).toEqual({
      databases: 0,
      keys: 0,
    });
  }, 120_000);
});
