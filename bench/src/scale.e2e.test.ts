import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChartsLinked } from './report/chart-checks.js';
import { leftovers, numbersIn } from './scenarios/e2e-checks.js';
import type { ScaleReport } from './scenarios/scale-report.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);
const AGENTS = 300;

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-scale-e2e-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('pnpm bench scale', () => {
  it('holds a small fleet on two gateways, checks it online, measures the baseline, and cleans up', async () => {
    const args = [
      'scale',
      '--agents',
      String(AGENTS),
      '--gateways',
      '2',
      '--workers',
      '2',
      '--agents-per-generator',
      '150', // two generator processes: the sharded path
      '--heartbeat',
      '1',
      '--duration',
      '2',
      '--out',
      outDir,
    ];
    const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 90_000 });
    const files = await readdir(outDir);
    const json = files.find((f) => f.endsWith('.json'));
    const md = files.find((f) => f.endsWith('.md'));
    expect(json).toMatch(/^scale-\d{8}T\d{6}Z-300a\.json$/);
    const report = JSON.parse(await readFile(join(outDir, json!), 'utf8')) as ScaleReport;
    const markdown = await readFile(join(outDir, md!), 'utf8');
    expect(stdout).toBe(markdown);
    const base = json!.replace(/\.json$/, '');
    const charts: Record<string, string> = {};
    for (const f of files.filter((name) => name.endsWith('.svg'))) {
      charts[f.slice(base.length + 1, -'.svg'.length)] = await readFile(join(outDir, f), 'utf8');
    }
    expectChartsLinked(base, markdown, charts, ['connected', 'latency']);

    expect(report.schema).toBe('opamp-fleet/bench-scale@1');
    expect(report.command).toBe(`pnpm bench ${args.join(' ')}`);
    expect(report.environment.cpuCount).toBeGreaterThan(0);
    expect(report.settings).toMatchObject({ agents: AGENTS, gateways: 2, workers: 2, sweepers: 1 });
    // the sweeper started once every agent's first heartbeat was answered, not before one interval
    // (1 s + 10 % + 1 s slack)
    expect(report.settings.sweeperStartAfterFirstRound).toBe(true);
    expect(report.settings.sweeperStartSeconds).toBeGreaterThanOrEqual(2.1);
    expect(report.settings.generatorProcesses).toBeGreaterThanOrEqual(2);
    expect(report.connect.connected).toBe(AGENTS);
    expect(report.gateway.connected).toBe(AGENTS);
    expect(report.gateway.processes).toBe(2);
    expect(report.online).toMatchObject({ expected: AGENTS, online: AGENTS });
    expect(report.heartbeats.replied).toBeLessThanOrEqual(report.heartbeats.sent);
    expect(report.heartbeats.replied + report.heartbeats.unanswered).toBe(report.heartbeats.sent);
    expect(report.heartbeats.latencyMs.count).toBe(report.heartbeats.replied);
    // read over the run: both gateways still resident at the last reading (after the online check)
    const overRun = report.gateway.rssOverRun!;
    expect(overRun.samples).toBeGreaterThanOrEqual(2);
    expect(overRun.lastTotalBytes).toBeGreaterThan(2 * 10 * 1024 * 1024);
    expect(overRun.peakTotalBytes).toBeGreaterThanOrEqual(overRun.lastTotalBytes);
    expect(overRun.peakProcessBytes).toBeGreaterThanOrEqual(overRun.lastTotalBytes / 2);
    expect(overRun.peakProcessBytes).toBeLessThanOrEqual(overRun.peakTotalBytes);
    expect(markdown).toContain('| gateway RSS over the run, connect to the end of the online check (MiB)');
    // where the agents stood when the check ended: all online, every connect written, no batch left
    const atEnd = report.online.atEnd!;
    expect(atEnd.byStatus).toEqual([{ status: 'online', reason: 'connected', agents: AGENTS }]);
    expect(atEnd).toMatchObject({ workers: 2, workersAnswered: 2 });
    expect(atEnd.connectionOpenedWritten).toBeGreaterThanOrEqual(AGENTS);
    expect(atEnd.eventJobsWaiting).toBeGreaterThanOrEqual(0);
    expect(markdown).toContain(`agents by stored status online (connected) ${AGENTS};`);
    expect(report.baseline?.connected).toBe(AGENTS);
    expect(report.baseline?.processes).toBe(2);
    expect(report.complete).toBe(report.heartbeats.unanswered === 0 && report.heartbeats.badReplies === 0);
    // the generators' CPU over the heartbeat window, which also spans the wait for Postgres
    const stream = report.gateway.generatorStream;
    expect(stream.wallSeconds).toBe(report.heartbeats.windowSeconds);
    expect(stream.cpuPercent).toBeLessThanOrEqual(100 * report.environment.cpuCount * 1.05);
    for (const [path, value] of numbersIn({
      gateway: report.gateway,
      baseline: report.baseline,
      ratios: report.ratios,
      cpu: { gateways: report.cpu.gateways, workers: report.cpu.workers, host: report.cpu.host },
    })) {
      if (path.endsWith('pressurePercent')) continue; // null on kernels without PSI
      // a ratio is null when the baseline's figure is 0: 300 connects of the raw uWS echo can take
      // less CPU than one clock tick of the process's accounting
      if (path.startsWith('.ratios.') && value === null) continue;
      expect(Number.isFinite(value), path).toBe(true);
    }
    expect(markdown).toContain('| server RSS per connection after connect (KiB) |');
    expect(markdown).toContain(`| agents online in Postgres | ${AGENTS} / ${AGENTS}`);

    expect(await leftovers(report.settings.database, report.settings.redisKeyPrefix)).toEqual({
      databases: 0,
      keys: 0,
    });
  }, 100_000);

  it('an interrupted run stops its servers and removes its database and keys, also when SIGINT comes twice', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'scale', '--agents', '100', '--no-baseline', '--duration', '120', '--out', outDir],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = once(child, 'exit');
    let made: { database: string; keyPrefix: string } | null = null;
    let connected = false;
    for await (const line of createInterface({ input: child.stderr! })) {
      const up = /database (bench_\w+), Redis prefix (\S+)$/.exec(line);
      if (up) made = { database: up[1]!, keyPrefix: up[2]! };
      if (made !== null && /connected 100\/100/.test(line)) {
        connected = true;
        break;
      }
    }
    expect(connected).toBe(true);
    expect(await leftovers(made!.database, made!.keyPrefix)).toMatchObject({ databases: 1 });
    // one Ctrl-C: the terminal signals the process group, and a parent (pnpm, timeout) passes it on
    child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGINT');
    const [code] = await exited;
    expect(code).toBe(130);
    expect(await leftovers(made!.database, made!.keyPrefix)).toEqual({ databases: 0, keys: 0 });
  }, 90_000);
});
