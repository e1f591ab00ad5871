import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { scanPatternForPrefix } from '@opamp-fleet/testkit';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChartsLinked } from './report/chart-checks.js';
import type { HeartbeatThroughputReport } from './report/heartbeat-types.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);
const AGENTS = 60;

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-heartbeat-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

/** Every number (or null, which is how JSON writes NaN) under `value`, with its path. */
function numbersIn(value: unknown, path = ''): Array<[string, unknown]> {
  if (typeof value === 'number' || value === null) return [[path, value]];
  if (typeof value !== 'object' || value === undefined) return [];
  return Object.entries(value).flatMap(([key, v]) =>
    typeof v === 'string' || typeof v === 'boolean' ? [] : numbersIn(v, `${path}.${key}`),
  );
}

describe('pnpm bench heartbeat-throughput', () => {
  it('runs a tiny fleet through gateways, Redis, a worker and Postgres, reports, and cleans up', async () => {
    const args = [
      'heartbeat-throughput',
      '--agents',
      String(AGENTS),
      '--agents-per-generator',
      '40', // two generator processes: the sharded stream path
      '--duration',
      '2',
      '--heartbeat',
      '1',
      '--warmup',
      '1',
      '--baseline-duration',
      '0.5',
      '--out',
      outDir,
    ];
    // The CLI gets SIGTERM well before the test times out, so it can still remove what it created.
    const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 90_000 });
    const files = await readdir(outDir);
    const json = files.find((f) => f.endsWith('.json'));
    const md = files.find((f) => f.endsWith('.md'));
    expect(json).toMatch(/^heartbeat-throughput-\d{8}T\d{6}Z-60a\.json$/);
    const report = JSON.parse(await readFile(join(outDir, json!), 'utf8')) as HeartbeatThroughputReport;
    const markdown = await readFile(join(outDir, md!), 'utf8');
    expect(stdout).toBe(markdown);
    const base = json!.slice(0, -'.json'.length);
    const charts = Object.fromEntries(
      await Promise.all(
        files
          .filter((f) => f.endsWith('.svg'))
          .map(async (f) => [
            f.slice(base.length + 1, -'.svg'.length),
            await readFile(join(outDir, f), 'utf8'),
          ]),
      ),
    );
    expectChartsLinked(base, markdown, charts, ['latency', 'timeline']);
    expect(Math.max(...report.timeline.connected)).toBe(AGENTS);

    expect(report.schema).toBe('opamp-fleet/bench-heartbeat-throughput@2');
    expect(report.command).toBe(`pnpm bench ${args.join(' ')}`);
    expect(report.environment.nodeVersion).toBe(process.version);
    expect(report.connect).toMatchObject({ requested: AGENTS, connected: AGENTS, failed: 0 });
    expect(report.options).toMatchObject({ agents: AGENTS, gateways: 2, workers: 1, heartbeatSeconds: 1 });
    expect(report.cpu.generator.processes).toBe(3); // two shards and the coordinator
    expect(report.steady.sent).toBeGreaterThan(0);
    expect(report.flush.lagSeconds.count).toBeGreaterThan(0);
    expect(report.flush.continuousLagSeconds.count).toBeGreaterThan(0);
    expect(report.baseline.tableRows).toBe(AGENTS);
    expect(report.baseline.rawUpdate.statements).toBeGreaterThan(0);
    expect(report.baseline.flushStatement.statements).toBeGreaterThan(0);
    expect(typeof report.freshness.freshFraction).toBe('number');
    expect(report.freshness.freshFraction).toBeGreaterThanOrEqual(0);
    expect(report.freshness.freshFraction).toBeLessThanOrEqual(1);
    expect(typeof report.targets.heartbeatsPerSecond.met).toBe('boolean');
    expect(typeof report.targets.flushLagP99Seconds.met).toBe('boolean');
    // the figures that always exist are finite numbers (NaN would be written as null)
    for (const [path, n] of numbersIn({
      connect: report.connect,
      steady: report.steady,
      flush: {
        lagSeconds: report.flush.lagSeconds,
        continuousLagSeconds: report.flush.continuousLagSeconds,
        postgresBehindSeconds: report.flush.postgresBehindSeconds,
        rowsPerSecond: report.flush.rowsPerSecond,
      },
      freshness: report.freshness,
      baseline: report.baseline,
      ratios: report.ratios,
      generator: report.cpu.generator,
      gateways: report.cpu.gateways,
      workers: report.cpu.workers,
    })) {
      expect(Number.isFinite(n), `${path} = ${n}`).toBe(true);
    }
    expect(markdown).toContain('agents fresh in Postgres');
    expect(markdown).toMatch(
      /flush lag p99 \(read from Redis\) < 2\.00 s: measured [\d.]+ s -> \*\*(met|not met)\*\*/,
    );

    // the run's database was dropped and its Redis keys deleted
    const admin = postgres(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres', {
      max: 1,
    });
    const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
    try {
      expect(report.servers.database).toMatch(/^bench_[0-9a-f]{12}$/);
      const dbs = await admin`select 1 from pg_database where datname = ${report.servers.database}`;
      expect(dbs).toHaveLength(0);
      expect(report.servers.redisKeyPrefix).toMatch(/^opamp-bench-/);
      const pattern = scanPatternForPrefix(report.servers.redisKeyPrefix);
      const [, keys] = await redis.scan('0', 'MATCH', pattern, 'COUNT', 100_000);
      expect(keys).toEqual([]);
    } finally {
      await admin.end({ timeout: 5 });
      redis.disconnect();
    }
  }, 180_000);
});
