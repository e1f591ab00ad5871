import { randomBytes } from 'node:crypto';
import {
  deleteByPrefix,
  detectPostgres,
  eventually,
  freePortRange,
  freePorts,
  startProcess,
} from '@opamp-fleet/testkit';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { expect, it } from 'vitest';

const main = new URL('../dist/main.js', import.meta.url).pathname;

it('runs gateways, a worker, two sweepers (one leads) and a demo fleet whose agents all show up in presence and online in Postgres, then stops cleanly on SIGINT', async () => {
  const run = randomBytes(4).toString('hex');
  const database = `demo_${run}`;
  const keyPrefix = `demo-${run}:`;
  // gateways, worker and sweepers take consecutive ops ports from --metrics-port on
  const metricsPort = await freePortRange(5);
  const [port, apiPort] = (await freePorts(7)).filter((p) => p < metricsPort || p > metricsPort + 4);
  const demo = await startProcess({
    name: 'demo',
    command: process.execPath,
    args: [main, '--agents', '3', '--http-agents', '1', '--heartbeat', '1', '--port', String(port)].concat([
      '--metrics-port',
      String(metricsPort),
      '--database',
      database,
      '--key-prefix',
      keyPrefix,
      '--api-port',
      String(apiPort),
    ]),
  });
  try {
    await eventually(
      () => expect(demo.output()).toMatch(/agents seen within 3s: 4 {2}WebSockets per gateway: \d+ \/ \d+/),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    await eventually(() => expect(demo.output()).toMatch(/in Postgres: online 4\n/), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    const held = /WebSockets per gateway: (\d+) \/ (\d+)/.exec(demo.output());
    expect(Number(held?.[1]) + Number(held?.[2])).toBe(3);
    const summary = (await fetch(`http://127.0.0.1:${apiPort}/api/v1/fleet/summary`).then((r) =>
      r.json(),
    )) as {
      counts: Record<string, number>;
    };
    expect(summary.counts.online).toBe(4);
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    expect(metrics).toContain('opamp_gateway_connections');
    // two gateways, the worker, then the two sweepers: exactly one of them leads
    await eventually(
      () => expect(demo.output()).toMatch(/sweeper leader: demo-sweeper-[12] {2}in Postgres/),
      {
        timeoutMs: 15_000,
        intervalMs: 200,
      },
    );
    const leading = await Promise.all(
      [metricsPort + 3, metricsPort + 4].map(async (p) => {
        const text = await fetch(`http://127.0.0.1:${p}/metrics`).then((r) => r.text());
        return Number(/^opamp_sweeper_is_leader(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1]);
      }),
    );
    expect(leading.sort()).toEqual([0, 1]);
  } finally {
    const code = await demo.stop('SIGINT', 20_000);
    if (code !== 0) console.error(demo.output());
    await cleanUp(database, keyPrefix, demo.output());
    expect(code).toBe(0);
  }
});

/** Drops the demo's database and keys where it used shared services (a private server is gone already). */
async function cleanUp(database: string, keyPrefix: string, output: string): Promise<void> {
  const redisUrl = /Redis\s+(redis:\/\/\S+)/.exec(output)?.[1];
  if (redisUrl && !output.includes('private')) {
    const redis = new Redis(redisUrl);
    await deleteByPrefix(redis, keyPrefix);
    redis.disconnect();
  }
  const source = await detectPostgres();
  if (source.kind === 'url') {
    const sql = postgres(source.url, { max: 1, onnotice: () => {} });
    await sql.unsafe(`drop database if exists ${database} with (force)`);
    await sql.end({ timeout: 5 });
  }
}
