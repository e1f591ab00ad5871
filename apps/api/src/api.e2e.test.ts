/**
 * The built API (`node apps/api/dist/main.js`) as a real process: it answers /status over its port
 * with a bearer token, serves /metrics, /healthz and /readyz on the separate ops port, stops cleanly
 * on SIGTERM and refuses an invalid configuration with exit code 2.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDb, migrate } from '@opamp-fleet/db';
import {
  freePorts,
  type PostgresFixture,
  postgresFixture,
  type RedisFixture,
  type RunningProcess,
  redisFixture,
  startProcess,
} from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET, seedFleet } from './testing/fleet.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TOKEN = 'e2e-token';

let pg: PostgresFixture;
let redisFx: RedisFixture;
let proc: RunningProcess | undefined;

beforeAll(async () => {
  [pg, redisFx] = await Promise.all([postgresFixture(), redisFixture()]);
  await migrate(pg.url);
  const db = createDb(pg.url, { max: 1 });
  const seeder = redisFx.client();
  const [s, us] = await seeder.time();
  await seedFleet(db.db, seeder, redisFx.prefix, Number(s) * 1000 + Math.floor(Number(us) / 1000));
  await db.close();
});
afterAll(async () => {
  await proc?.stop('SIGKILL');
  await Promise.all([redisFx?.stop(), pg?.stop()]);
});

/** The built API on the given ports against the test's Postgres and Redis (`env` overrides). */
function startApi(name: string, apiPort: number, opsPort: number, env: Record<string, string> = {}) {
  return startProcess({
    name,
    command: process.execPath,
    args: [MAIN],
    env: {
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(opsPort),
      API_AUTH_TOKENS: TOKEN,
      DATABASE_URL: pg.url,
      REDIS_URL: redisFx.url,
      REDIS_KEY_PREFIX: redisFx.prefix,
      LOG_LEVEL: 'info',
      ...env,
    },
    readyUrl: `http://127.0.0.1:${opsPort}/readyz`,
  });
}

describe('api process', () => {
  it('answers /status and /metrics, and stops on SIGTERM', async () => {
    const [apiPort, opsPort] = await freePorts(2);
    proc = await startApi('api', apiPort!, opsPort!);
    const base = `http://127.0.0.1:${apiPort}/api/v1`;
    const status = await fetch(`${base}/agents/${FLEET.fresh}/status`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ id: FLEET.fresh, status: 'online', gateway_id: 'gw-a' });
    expect((await fetch(`${base}/agents/${FLEET.fresh}/status`)).status).toBe(401);
    expect((await fetch(`${base}/openapi.json`)).status).toBe(200);

    const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    expect(metrics).toMatch(
      /opamp_api_request_duration_seconds_count\{[^}]*route="\/api\/v1\/agents\/:id\/status"[^}]*status="200"[^}]*\} 1/,
    );
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${apiPort}/metrics`)).status).toBe(404);

    expect(await proc.stop('SIGTERM')).toBe(0);
    expect(proc.output()).toContain('API listening');
    expect(proc.output()).not.toContain(TOKEN);
  });

  it('starts without Redis after its start-up wait and answers from Postgres alone', async () => {
    const [apiPort, opsPort, deadRedisPort] = await freePorts(3);
    const api = await startApi('api-no-redis', apiPort!, opsPort!, {
      REDIS_URL: `redis://127.0.0.1:${deadRedisPort}`,
      // the seeded last-seen must not expire however slow the host is (this test is about Redis)
      OFFLINE_TIMEOUT_SECONDS: '3600',
    });
    try {
      expect(api.output()).toContain('Redis not reachable at start');
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/agents/${FLEET.fresh}/status`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        id: FLEET.fresh,
        status: 'online',
        last_seen_source: 'postgres',
        connected: null,
        gateway_id: null,
        presence_available: false,
      });
    } finally {
      expect(await api.stop('SIGTERM')).toBe(0);
    }
  });

  it('exits with 2 on an invalid configuration, naming the variable', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, API_PORT: 'eighty', API_AUTH_TOKENS: 's3cr3t' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('API_PORT');
    expect(err).not.toContain('s3cr3t');
  });
});
