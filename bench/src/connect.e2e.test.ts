import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { scanPatternForPrefix } from '@opamp-fleet/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectReport, TargetRun } from './report/types.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

/** Runs the built CLI into a fresh subdirectory; returns the parsed JSON report and the Markdown. */
async function bench(
  name: string,
  args: string[],
): Promise<{ report: ConnectReport; markdown: string; stdout: string }> {
  const dir = join(outDir, name);
  const { stdout } = await run(process.execPath, [CLI, 'connect', '--out', dir, ...args], {
    timeout: 90_000,
  });
  const files = await readdir(dir);
  const json = files.find((f) => f.endsWith('.json'));
  const md = files.find((f) => f.endsWith('.md'));
  expect(json).toBeDefined();
  expect(md).toBeDefined();
  return {
    report: JSON.parse(await readFile(join(dir, json!), 'utf8')) as ConnectReport,
    markdown: await readFile(join(dir, md!), 'utf8'),
    stdout,
  };
}

/** Every number anywhere under `value` (arrays and objects included). */
function numbersIn(value: unknown, path = ''): Array<[string, unknown]> {
  if (typeof value === 'number' || value === null) return [[path, value]];
  if (typeof value !== 'object' || value === undefined) return [];
  return Object.entries(value).flatMap(([key, v]) =>
    typeof v === 'string' || typeof v === 'boolean' ? [] : numbersIn(v, `${path}.${key}`),
  );
}

function expectWellFormed(run: TargetRun | null, agents: number, rounds: number): void {
  expect(run).not.toBeNull();
  const r = run!;
  expect(r.connect.requested).toBe(agents);
  expect(r.connect.connected).toBe(agents);
  expect(r.connect.handshakeMs.count).toBe(agents);
  expect(r.heartbeat.sent).toBe(agents * rounds);
  expect(r.heartbeat.replied).toBe(agents * rounds);
  expect(r.heartbeat.latencyMs.count).toBe(agents * rounds);
  expect(r.server).not.toBeNull();
  for (const [path, n] of numbersIn({
    connect: r.connect,
    heartbeat: r.heartbeat,
    server: r.server,
    generator: r.generator,
  })) {
    expect(Number.isFinite(n), `${r.target}${path} = ${n}`).toBe(true);
  }
}

describe('pnpm bench connect', () => {
  it('measures a tiny fleet against the gateway and the baseline and reports both', async () => {
    const { report, markdown, stdout } = await bench('both', [
      '--agents',
      '50',
      '--rounds',
      '1',
      '--duration',
      '1',
    ]);
    expect(report.schema).toBe('opamp-fleet/bench-connect@1');
    expect(report.complete).toBe(true);
    expect(report.command).toBe(
      `pnpm bench connect --out ${join(outDir, 'both')} --agents 50 --rounds 1 --duration 1`,
    );
    expect(report.environment.cpuCount).toBeGreaterThan(0);
    expect(report.environment.nodeVersion).toBe(process.version);
    expect(report.environment.hostSpeed?.rounds).toBe(15);
    expect(report.environment.hostSpeed?.roundMedianMs).toBeGreaterThanOrEqual(
      report.environment.hostSpeed?.roundMinMs ?? Number.POSITIVE_INFINITY,
    );
    expectWellFormed(report.gateway, 50, 1);
    expectWellFormed(report.baseline, 50, 1);
    const { connectRate, latencyP50, latencyP99, ...resourceRatios } = report.ratios!;
    for (const n of [connectRate, latencyP50, latencyP99]) expect(Number.isFinite(n)).toBe(true);
    // CPU is read in 10 ms ticks and RSS moves little for 50 agents: those ratios may be null.
    for (const n of Object.values(resourceRatios)) expect(n === null || Number.isFinite(n)).toBe(true);
    expect(markdown).toContain('| | gateway | baseline (raw uWS echo) | gateway / baseline |');
    expect(markdown).toMatch(/!\[[^\]]+\]\(connect-\d{8}T\d{6}Z-50a\.latency\.svg\)/);
    expect((await readdir(join(outDir, 'both'))).filter((f) => f.endsWith('.svg'))).toHaveLength(3);
    expect(stdout).toBe(markdown);

    // The gateway's Redis keys lived under a prefix of their own, deleted after the run.
    const prefix = String(report.gateway?.settings.redisKeyPrefix);
    expect(prefix).toMatch(/^opamp-bench-/);
    const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
    try {
      const [, keys] = await redis.scan('0', 'MATCH', scanPatternForPrefix(prefix), 'COUNT', 10_000);
      expect(keys).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('runs to the end and cleans up when its reader goes away (| head)', async () => {
    const dir = join(outDir, 'no-reader');
    const child = spawn(
      process.execPath,
      [CLI, 'connect', '--out', dir, '--agents', '20', '--rounds', '1', '--duration', '1'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // the reader closes its end at once: every write of the run meets a closed pipe (EPIPE)
    child.stdout.destroy();
    child.stderr.destroy();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const json = (await readdir(dir)).find((f) => f.endsWith('.json'));
    const report = JSON.parse(await readFile(join(dir, json!), 'utf8')) as ConnectReport;
    expect(report.complete).toBe(true);
    const prefix = String(report.gateway?.settings.redisKeyPrefix);
    const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
    try {
      const [, keys] = await redis.scan('0', 'MATCH', scanPatternForPrefix(prefix), 'COUNT', 10_000);
      expect(keys).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('shards the generator over child processes when asked to', async () => {
    const { report } = await bench('sharded', [
      '--only',
      'baseline',
      '--agents',
      '50',
      '--agents-per-generator',
      '20',
      '--rounds',
      '2',
      '--duration',
      '1',
      '--json',
    ]);
    expect(report.gateway).toBeNull();
    expect(report.ratios).toBeNull();
    expectWellFormed(report.baseline, 50, 2);
    // Three generator processes of at most 20 agents, plus the coordinating one.
    expect(report.baseline?.generator.processes).toBe(4);
  });

  it('rejects bad arguments with a usage error', async () => {
    await expect(run(process.execPath, [CLI, 'connect', '--agents', 'many'])).rejects.toMatchObject({
      code: 64,
      stderr: expect.stringContaining('--agents must be a positive integer'),
    });
  });
});
