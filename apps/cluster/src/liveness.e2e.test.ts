/**
 * Liveness end to end, with real processes: a gateway, a worker and two sweeper replicas (built
 * `dist/`; `pnpm build` first) in the fast profile (heartbeat 1 s, offline after 3 s, sweep every
 * 250 ms), driven by simulated agents over real sockets, asserting on Postgres rows.
 *
 * Detection latencies are printed (console.info); the assertions bound them loosely only, as a
 * shared machine's load moves them.
 */
import { fileURLToPath } from 'node:url';
import { createDb, type DbHandle, getAgent, listHistory, listTransitions, migrate } from '@opamp-fleet/db';
import { AgentCapabilities, encodeAgentToServer, newInstanceUid, uidBytesToId } from '@opamp-fleet/opamp';
import {
  DEFAULT_TEST_AGENT_CAPABILITIES,
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
const OFFLINE_TIMEOUT_SECONDS = 3;
const SWEEP_INTERVAL_MS = 250;

let redis: RedisFixture;
let pg: PostgresFixture;
let db: DbHandle;
let procs: RunningProcess[] = [];
let opampPort: number;
let sweeperPorts: number[];
const agents: TestAgent[] = [];

beforeAll(async () => {
  [redis, pg] = await Promise.all([redisFixture(), postgresFixture()]);
  await migrate(pg.url);
  db = createDb(pg.url, { max: 2 });
  const [opamp, gwOps, workerOps, s1, s2] = await freePorts(5);
  opampPort = opamp!;
  sweeperPorts = [s1!, s2!];
  const common = {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.prefix,
    LOG_LEVEL: 'warn',
    METRICS_HOST: '127.0.0.1',
  };
  const sweeper = (i: number) => ({
    name: `sweeper-${i + 1}`,
    command: process.execPath,
    args: [app('sweeper')],
    env: {
      ...common,
      DATABASE_URL: pg.url,
      METRICS_PORT: String(sweeperPorts[i]),
      SWEEPER_ID: `liveness-${i + 1}`,
      OFFLINE_TIMEOUT_SECONDS: String(OFFLINE_TIMEOUT_SECONDS),
      SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
    },
    readyUrl: `http://127.0.0.1:${sweeperPorts[i]}/readyz`,
  });
  procs = await startProcesses([
    {
      name: 'gateway',
      command: process.execPath,
      args: [app('gateway')],
      env: {
        ...common,
        OPAMP_HOST: '127.0.0.1',
        OPAMP_PORT: String(opampPort),
        METRICS_PORT: String(gwOps),
        HEARTBEAT_INTERVAL_SECONDS: '1',
        SOCKET_KEEPALIVE_TOUCH_SECONDS: '1',
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
        HEARTBEAT_FLUSH_INTERVAL_MS: '250',
      },
      readyUrl: `http://127.0.0.1:${workerOps}/readyz`,
    },
    sweeper(0),
    sweeper(1),
  ]);
});

afterAll(async () => {
  for (const a of agents) a.terminate();
  await Promise.all(procs.map((p) => p.stop('SIGTERM', 20_000)));
  await db?.close();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

async function connect(capabilities = DEFAULT_TEST_AGENT_CAPABILITIES): Promise<TestAgent> {
  const agent = await TestAgent.connect({ url: `ws://127.0.0.1:${opampPort}/v1/opamp`, capabilities });
  agents.push(agent);
  return agent;
}

const statusOf = async (id: string) => (await getAgent(db.db, id))?.status ?? null;

/** Polls Postgres until the agent is `status`; resolves with when it was first seen so (Date.now()). */
async function when(id: string, status: string, timeoutMs = 15_000): Promise<number> {
  return eventually(
    async () => {
      expect(await statusOf(id)).toBe(status);
      return Date.now();
    },
    { timeoutMs, intervalMs: 25 },
  );
}

const transitionsOf = async (id: string) =>
  (await listTransitions(db.db, id))
    .reverse()
    .map((t) => `${t.fromStatus}->${t.toStatus}:${t.reason}:${t.decidedBy}`);

/**
 * Waits for what must NOT happen to have had its chance: events already emitted reaching Postgres
 * (batched every 100 ms), and sweeps past any deadline within `ms`.
 */
const settle = (ms = 0) => new Promise((r) => setTimeout(r, Math.max(ms, 2 * SWEEP_INTERVAL_MS + 1500)));

async function sweeperMetric(name: string): Promise<number[]> {
  return Promise.all(
    sweeperPorts.map(async (port) => {
      const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    }),
  );
}

describe('liveness through gateway, worker and two sweepers', () => {
  it('runs two sweeper replicas of which exactly one leads', async () => {
    await eventually(
      async () => expect((await sweeperMetric('opamp_sweeper_is_leader')).sort()).toEqual([0, 1]),
      {
        timeoutMs: 10_000,
      },
    );
  });

  it('silent with the socket open: offline once if it reports heartbeats (socket closed 4001); kept online if it does not', async () => {
    const silent = await connect();
    const bySocket = await connect(DEFAULT_TEST_AGENT_CAPABILITIES & ~AgentCapabilities.ReportsHeartbeat);
    await Promise.all([silent.sendFullState(), bySocket.sendFullState()]);
    const bySocketLastMessage = Date.now();
    await Promise.all([when(silent.id, 'online'), when(bySocket.id, 'online')]);
    for (let i = 0; i < 3; i++) {
      await silent.heartbeat();
      await new Promise((r) => setTimeout(r, 1000));
    }
    await silent.heartbeat();
    const lastHeartbeat = Date.now();
    const closed = silent.waitForClose(15_000).then((info) => ({ info, at: Date.now() }));
    const offlineAt = await when(silent.id, 'offline');
    const close = await closed;
    console.info(
      `silent agent (fast profile, timeout ${OFFLINE_TIMEOUT_SECONDS} s): offline in Postgres ${offlineAt - lastHeartbeat} ms after its last heartbeat, socket closed after ${close.at - lastHeartbeat} ms`,
    );
    expect(close.info).toEqual({ code: 4001, reason: 'heartbeat_timeout' });
    expect(offlineAt - lastHeartbeat).toBeGreaterThanOrEqual(OFFLINE_TIMEOUT_SECONDS * 1000 - 100);
    expect(offlineAt - lastHeartbeat).toBeLessThan(OFFLINE_TIMEOUT_SECONDS * 1000 + 5000);

    await settle(); // the gateway's own close event lands too, and changes nothing
    expect(await getAgent(db.db, silent.id)).toMatchObject({
      status: 'offline',
      statusReason: 'heartbeat_timeout',
    });
    const history = await listHistory(db.db, silent.id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ transport: 'ws', disconnectReason: 'heartbeat_timeout' });
    expect(history[0]!.disconnectedAt).not.toBeNull();
    expect(await transitionsOf(silent.id)).toEqual([
      'null->online:connected:gateway',
      'online->offline:heartbeat_timeout:sweeper',
    ]);

    // the agent without ReportsHeartbeat was silent for longer than two timeouts
    expect(Date.now() - bySocketLastMessage).toBeGreaterThan(2 * OFFLINE_TIMEOUT_SECONDS * 1000);
    expect(bySocket.isOpen).toBe(true);
    expect(await statusOf(bySocket.id)).toBe('online');
    expect(await transitionsOf(bySocket.id)).toEqual(['null->online:connected:gateway']);
    await bySocket.close();
  }, 60_000);

  it('agent_disconnect: offline at once with that reason, no timeout involved', async () => {
    const agent = await connect();
    await agent.sendFullState();
    await when(agent.id, 'online');
    await agent.heartbeat();
    const before = Date.now();
    await agent.disconnect();
    const offlineAt = await when(agent.id, 'offline', 5_000);
    console.info(`agent_disconnect: offline in Postgres ${offlineAt - before} ms after the goodbye`);
    expect(offlineAt - before).toBeLessThan(OFFLINE_TIMEOUT_SECONDS * 1000);
    // past its deadline: the sweeper only drops the stale last-seen entry
    await settle(before + OFFLINE_TIMEOUT_SECONDS * 1000 + 4 * SWEEP_INTERVAL_MS - Date.now());
    expect(await getAgent(db.db, agent.id)).toMatchObject({
      status: 'offline',
      statusReason: 'agent_disconnect',
    });
    const history = await listHistory(db.db, agent.id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ disconnectReason: 'agent_disconnect' });
    expect(await transitionsOf(agent.id)).toEqual([
      'null->online:connected:gateway',
      'online->offline:agent_disconnect:gateway',
    ]);
  }, 30_000);

  it('plain HTTP: stops polling -> offline (heartbeat_timeout, history closed) -> polls again -> online in a new session', async () => {
    const uid = newInstanceUid();
    const id = uidBytesToId(uid);
    let seq = 0;
    const poll = async () => {
      const res = await fetch(`http://127.0.0.1:${opampPort}/v1/opamp`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: encodeAgentToServer({
          instanceUid: uid,
          sequenceNum: ++seq,
          capabilities: AgentCapabilities.ReportsStatus | AgentCapabilities.ReportsHeartbeat,
        }),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    await poll();
    await when(id, 'online');
    await poll();
    const lastPoll = Date.now();
    const offlineAt = await when(id, 'offline');
    console.info(`HTTP agent: offline in Postgres ${offlineAt - lastPoll} ms after its last poll`);
    const first = await listHistory(db.db, id);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ transport: 'http', disconnectReason: 'heartbeat_timeout' });

    await poll();
    await when(id, 'online');
    const history = await listHistory(db.db, id); // newest first
    expect(history).toHaveLength(2);
    expect(history[0]!.connectionId).not.toBe(first[0]!.connectionId);
    expect(history[0]).toMatchObject({ transport: 'http', disconnectedAt: null });
    expect(history[1]).toMatchObject({
      connectionId: first[0]!.connectionId,
      disconnectReason: 'heartbeat_timeout',
    });
    expect(await transitionsOf(id)).toEqual([
      'null->online:connected:gateway',
      'online->offline:heartbeat_timeout:sweeper',
      'offline->online:connected:gateway',
    ]);
  }, 30_000);

  it('1000 agents heartbeating every 1 s +-20 % for 120 s: zero offline transitions', async () => {
    const N = 1000;
    const RUN_MS = 120_000;
    let failures = 0;
    let sent = 0;
    let maxGapMs = 0;
    let running = true;
    const timers = new Set<NodeJS.Timeout>();
    const loop = (agent: TestAgent, last: number) => {
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          if (!running) return;
          const now = performance.now();
          maxGapMs = Math.max(maxGapMs, now - last);
          agent.heartbeat().then(
            () => {
              sent += 1;
            },
            () => {
              failures += 1;
            },
          );
          loop(agent, now);
        },
        1000 * (0.8 + 0.4 * Math.random()),
      );
      timers.add(timer);
    };
    // Every agent heartbeats from its first message on: connecting the whole fleet can take longer
    // than the offline timeout on a loaded machine, and a real agent does not wait for its peers.
    const fleet: TestAgent[] = [];
    for (let i = 0; i < N; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, N - i) }, () => connect()));
      await Promise.all(batch.map((a) => a.sendFullState()));
      const now = performance.now();
      for (const agent of batch) loop(agent, now);
      fleet.push(...batch);
    }
    const ids = fleet.map((a) => a.id);
    const online = async () =>
      (
        await db.sql<{ n: number }[]>`
          select count(*)::int as n from agents where id = any(${ids}) and status = 'online'`
      )[0]!.n;
    await eventually(async () => expect(await online()).toBe(N), { timeoutMs: 60_000, intervalMs: 500 });

    await new Promise((r) => setTimeout(r, RUN_MS));
    running = false;
    for (const t of timers) clearTimeout(t);

    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from agent_status_transitions
      where agent_id = any(${ids}) and to_status = 'offline'`;
    console.info(
      `1000 agents for ${RUN_MS / 1000} s: ${sent} heartbeats, ${failures} failed, longest gap between two heartbeats of one agent ${Math.round(maxGapMs)} ms, offline transitions ${row!.n}`,
    );
    expect(row!.n).toBe(0);
    expect(failures).toBe(0);
    expect(fleet.every((a) => a.isOpen)).toBe(true);
    expect(await online()).toBe(N);
    for (const a of fleet) a.terminate();
  }, 300_000);
});
