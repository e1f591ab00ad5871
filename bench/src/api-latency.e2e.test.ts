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
  it('loads the API and the raw reads of a 500-agent fleet at each concurrency, reports CPU, and cleans up', async () => {
    const args = ['api-latency', '--agents', '500', '--duration', '2', '--concurrency', '4', '--out', outDir];
    const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 100_000 });
    const files = await readdir(outDir);
    const json = files.find((f) => f.endsWith('.json'));
    const mdFile = files.find((f) => f.endsWith('.md'));
    expect(json).toMatch(/^api-latency-\d{8}T\d{6}Z-500a\.json$/);
    const report = JSON.parse(await readFile(join(outDir, json!), 'utf8')) as ApiLatencyReport;
    expect(stdout).toBe(await readFile(join(outDir, mdFile!), 'utf8'));

    expect(report).toMatchObject({
      schema: 'opamp-fleet/bench-api-latency@4',
      scenario: 'api-latency',
      complete: true,
      command: `pnpm bench ${args.join(' ')}`,
      fleet: { agents: 500, online: 300, offline: 200 },
      settings: { concurrency: 4, concurrencyLevels: '1,4', durationSeconds: 2, secondsPerLevel: 1 },
    });
    expect(typeof report.loadAverageAtEnd).toBe('number');
    expect(report.endpoints).toHaveLength(2);
    for (const e of report.endpoints) {
      expect(e.levels.map((l) => l.concurrency)).toEqual([1, 4]);
      // the top level repeats the requested concurrency
      expect(e.api).toEqual(e.levels[1]!.api);
      for (const level of e.levels) {
        for (const side of [level.api, level.raw]) {
          expect(side.requests).toBeGreaterThan(0);
          expect(side.errors).toBe(0);
          expect(side.latencyMs.count).toBe(side.requests);
          // the API process and the database's backends were found and read
          expect(side.cpu.apiCores).not.toBeNull();
          expect(side.cpu.postgresCores).not.toBeNull();
        }
        expect(level.api.cpu.apiMsPerRequest).toBeGreaterThan(0);
        for (const [path, n] of numbersIn({ api: level.api, raw: level.raw, p99OverRaw: level.p99OverRaw })) {
          expect(Number.isFinite(n), `${e.endpoint} at ${level.concurrency}${path} = ${n}`).toBe(true);
        }
        expect(typeof level.target.met).toBe('boolean');
      }
      // open loop: every offered rate measured on both sides, exactly one reference rate
      expect(e.rates.length).toBeGreaterThan(1);
      expect(e.rates.filter((r) => r.reference)).toHaveLength(1);
      for (const r of e.rates) {
        for (const side of [r.api, r.raw]) {
          expect(side.requests).toBeGreaterThan(0);
          expect(side.errors).toBe(0);
          expect(side.offeredPerSecond).toBe(r.ratePerSecond);
          expect(side.peakInFlight).toBeGreaterThan(0);
          // one send lag per arrival; an offline walk times up to four pages
          expect(side.sendLagMs.count).toBeGreaterThan(0);
          expect(side.sendLagMs.count).toBeLessThanOrEqual(side.requests + side.errors);
        }
        expect(r.target.met).toBe(r.api.dropped === 0 && r.api.latencyMs.p99 < r.target.limitMs);
        // the API timed the same requests itself: as many answers of that route as the generator got
        // (its hook records an answer once written, a moment after the client may have read it)
        expect(r.api.insideApi.requests).toBeLessThanOrEqual(r.api.requests);
        expect(r.api.insideApi.requests).toBeGreaterThanOrEqual(r.api.requests - 2);
        expect(r.api.insideApi.overLimitShare).toBeGreaterThanOrEqual(0);
        expect(r.api.insideApi.overLimitShare).toBeLessThanOrEqual(1);
      }
    }
    const md = await readFile(join(outDir, mdFile!), 'utf8');
    for (const c of [1, 4]) expect(md).toContain(`at concurrency ${c} (closed loop): API p99 / raw p99`);
    expect(md).toContain('offered (reference): API p99 / raw p99');
    expect(md).toMatch(/in the API \d+\.\d\d % over 10 ms/);
    expect(report.servers.database).toMatch(/^bench_[0-9a-f]{12}$/);
    expect(await leftovers(report.servers.database, report.servers.redisKeyPrefix)).toEqual({
      databases: 0,
      keys: 0,
    });
  }, 120_000);
});
