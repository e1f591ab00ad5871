/**
 * The whole write path as real processes: agents -> gateway (uWS) -> Redis (presence + BullMQ) ->
 * worker -> Postgres. Asserts on the rows the product promises: agents, connection history and
 * status transitions, with a last_seen_at that follows the heartbeats.
 */
import { fileURLToPath } from 'node:url';
import { createOpAMPClient } from '@elastic/opamp-client-node';
import { createDb, type DbHandle, getAgent, listHistory, listTransitions, migrate } from '@opamp-fleet/db';
import {
  eventually,
  freePorts,
  type PostgresFixture,
  postgresFixture,
  type RedisFixture,
  type RunningProcess,
  redisFixture,
  startProcesses,
  TestAgent,
} from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const app = (name: string) => fileURLToPath(new URL(`../../${name}/dist/main.js`, import.meta.url));

let redis: RedisFixture;
let pg: PostgresFixture;
let db: DbHandle;
let procs: RunningProcess[] = [];
let opampPort: number;

beforeAll(async () => {
  [redis, pg] = await Promise.all([redisFixture(), postgresFixture()]);
  await migrate(pg.url);
  db = createDb(pg.url, { max: 2 });
  const [opamp, gwOps, workerOps] = await freePorts(3);
  opampPort = opamp!;
  const common = {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.prefix,
    LOG_LEVEL: 'warn',
    METRICS_HOST: '127.0.0.1',
  };
  procs = await startProcesses([
    {
      name: 'gateway',
      command: process.execPath,
      args: [app('gateway')],
      env: {
        ...common,
        OPAMP_PORT: String(opampPort),
        METRICS_PORT: String(gwOps),
        HEARTBEAT_INTERVAL_SECONDS: '1',
      },
      readyUrl: `http://127.0.0.1:${gwOps}/readyz`,
    },
    {
      name: 'worker',
      command: process.execPath,
      args: [app('worker')],
      env: {
        ...common,
        DATABASE_URL: pg.url,
        METRICS_PORT: String(workerOps),
        HEARTBEAT_FLUSH_INTERVAL_MS: '200',
      },
      readyUrl: `http://127.0.0.1:${workerOps}/readyz`,
    },
  ]);
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGTERM', 20_000)));
  await db?.close();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

describe('agents through gateway and worker into Postgres', () => {
  it('records a WebSocket agent: online with its description, heartbeats moving last_seen_at, then a graceful goodbye', async () => {
    const agent = await TestAgent.connect({
      url: `ws://127.0.0.1:${opampPort}/v1/opamp`,
      attributes: { 'service.name': 'io.opamp-fleet.e2e', 'service.instance.id': 'ws-1' },
    });
    await agent.sendFullState();
    await eventually(
      async () => {
        const row = await getAgent(db.db, agent.id);
        expect(row?.status).toBe('online');
        expect(row?.transport).toBe('ws');
        expect(JSON.stringify(row?.description)).toContain('io.opamp-fleet.e2e');
        expect(row?.lastSeenAt).not.toBeNull();
      },
      { timeoutMs: 10_000 },
    );
    const firstSeen = (await getAgent(db.db, agent.id))!.lastSeenAt!.getTime();
    await new Promise((r) => setTimeout(r, 300));
    await agent.heartbeat();
    await eventually(
      async () => expect((await getAgent(db.db, agent.id))!.lastSeenAt!.getTime()).toBeGreaterThan(firstSeen),
      { timeoutMs: 10_000 },
    );
    expect(Math.abs((await getAgent(db.db, agent.id))!.lastSeenAt!.getTime() - Date.now())).toBeLessThan(
      10_000,
    );

    await agent.disconnect();
    await eventually(
      async () => {
        const row = await getAgent(db.db, agent.id);
        expect(row?.status).toBe('offline');
        expect(row?.disconnectReason).toBe('agent_disconnect');
      },
      { timeoutMs: 10_000 },
    );
    const history = await listHistory(db.db, agent.id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ transport: 'ws', disconnectReason: 'agent_disconnect' });
    expect(history[0]!.connectedAt).not.toBeNull();
    expect(history[0]!.durationSeconds).toBeGreaterThan(0);
    const transitions = (await listTransitions(db.db, agent.id)).map((t) => [
      t.fromStatus,
      t.toStatus,
      t.decidedBy,
    ]);
    expect(transitions).toEqual([
      ['online', 'offline', 'gateway'],
      [null, 'online', 'gateway'],
    ]);
  });

  it('pairs history rows across a reconnect: one closed row per connection, the agent online on the newest', async () => {
    const url = `ws://127.0.0.1:${opampPort}/v1/opamp`;
    const first = await TestAgent.connect({ url });
    await first.sendFullState();
    await first.close();
    const second = await TestAgent.connect({ url, instanceUid: first.uid });
    await second.send();
    await eventually(
      async () => {
        const history = await listHistory(db.db, first.id);
        expect(history).toHaveLength(2);
        expect(history[1]).toMatchObject({ disconnectReason: 'connection_closed' });
        expect(history[0]!.disconnectedAt).toBeNull();
        expect((await getAgent(db.db, first.id))?.status).toBe('online');
      },
      { timeoutMs: 10_000 },
    );
    await second.disconnect();
  });

  it('records a plain-HTTP agent (Elastic OpAMP client) as online over http', async () => {
    const client = createOpAMPClient({
      endpoint: `http://127.0.0.1:${opampPort}/v1/opamp`,
      heartbeatIntervalSeconds: 1,
      instanceUid: '01900000-0000-7000-8000-0000000000e2',
    });
    client.setAgentDescription({ identifyingAttributes: { 'service.name': 'io.opamp-fleet.http' } });
    client.start();
    try {
      await eventually(
        async () => {
          const row = await getAgent(db.db, '01900000-0000-7000-8000-0000000000e2');
          expect(row).toMatchObject({ status: 'online', transport: 'http' });
          expect(JSON.stringify(row?.description)).toContain('io.opamp-fleet.http');
          expect(row?.lastSeenAt).not.toBeNull();
        },
        { timeoutMs: 10_000 },
      );
    } finally {
      await client.shutdown();
    }
  });
});
