import { getAgent, listHistory, listTransitions, migrate } from '@opamp-fleet/db';
import { dumpTables } from '@opamp-fleet/db/testing';
import { createPresenceRedis, createPresenceWriter, readLastSeen } from '@opamp-fleet/presence';
import {
  type AgentEvent,
  createEventProducer,
  createQueueRedis,
  type EventProducer,
  JOBS,
  QUEUES,
  queuePrefix,
} from '@opamp-fleet/queue';
import {
  eventually,
  type PostgresFixture,
  postgresFixture,
  type RedisFixture,
  redisFixture,
} from '@opamp-fleet/testkit';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessWorker, startInProcessWorker } from './testing/in-process.js';

let redisFx: RedisFixture;
let pgFx: PostgresFixture;
let w: InProcessWorker;
let producerRedis: Redis;
let producer: EventProducer;
let queue: Queue;

beforeAll(async () => {
  [redisFx, pgFx] = await Promise.all([redisFixture(), postgresFixture()]);
  await migrate(pgFx.url);
  w = await startInProcessWorker({
    REDIS_URL: redisFx.url,
    REDIS_KEY_PREFIX: redisFx.prefix,
    DATABASE_URL: pgFx.url,
    HEARTBEAT_FLUSH_INTERVAL_MS: '100',
    JOB_RETRY_BASE_DELAY_MS: '50',
    JOB_RETRY_MAX_DELAY_MS: '500',
  });
  producerRedis = createQueueRedis({ url: redisFx.url, role: 'producer', onError: () => {} });
  await eventually(() => expect(producerRedis.status).toBe('ready'));
  const prefix = queuePrefix(redisFx.prefix);
  producer = createEventProducer({ connection: producerRedis, prefix, producerId: 'gw-test', flushMs: 10 });
  queue = new Queue(QUEUES.agentEvents, { connection: w.queueRedis, prefix });
});

afterAll(async () => {
  await producer?.close();
  await queue?.close();
  await w?.stop();
  producerRedis?.disconnect();
  await Promise.all([redisFx?.stop(), pgFx?.stop()]);
});

const T = Date.UTC(2026, 0, 1);
const at = (s: number) => T + s * 1000;
const date = (s: number) => new Date(at(s));

function open(
  agentId: string,
  connectionId: string,
  epoch: number,
  s: number,
  gatewayId = 'gw-a',
): AgentEvent {
  return {
    type: 'connection_opened',
    agentId,
    connectionId,
    connectionEpoch: epoch,
    gatewayId,
    transport: 'ws',
    remoteAddress: '192.0.2.1:4000',
    at: at(s),
  };
}

function close(agentId: string, connectionId: string, epoch: number, s: number, reason: string): AgentEvent {
  return {
    type: 'connection_closed',
    agentId,
    connectionId,
    connectionEpoch: epoch,
    gatewayId: 'gw-a',
    reason,
    at: at(s),
  };
}

/** Emits `events` as one batch and waits until the worker has taken every job off the queue. */
async function send(...events: AgentEvent[]): Promise<void> {
  for (const e of events) producer.emit(e);
  expect(await producer.flush()).toBe(true);
  await idle();
}

async function idle(): Promise<void> {
  await eventually(
    async () => {
      const c = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'failed');
      expect(c).toEqual({ wait: 0, active: 0, delayed: 0, prioritized: 0, failed: 0 });
    },
    { timeoutMs: 10_000 },
  );
}

const transitions = async (agentId: string) =>
  (await listTransitions(w.database.db, agentId))
    .reverse()
    .map((t) => `${t.fromStatus}->${t.toStatus} ${t.reason}`);

describe('worker: event batches to Postgres', () => {
  it('writes every event type', async () => {
    await send(open('a1', 'c1', 1, 0), open('a2', 'c2', 2, 0), close('a2', 'c2', 2, 30, 'agent_disconnect'), {
      type: 'agent_state',
      agentId: 'a1',
      connectionEpoch: 1,
      sequenceNum: 4,
      at: at(1),
      description: { identifying: { 'service.name': 'otelcol' }, nonIdentifying: { 'os.type': 'linux' } },
      capabilities: 0x1fff,
      health: { healthy: true, status: 'running' },
      effectiveConfigHash: 'cafe',
    });
    expect(await getAgent(w.database.db, 'a1')).toMatchObject({
      status: 'online',
      currentConnectionId: 'c1',
      lastConnectedAt: date(0),
      description: { identifying: { 'service.name': 'otelcol' }, nonIdentifying: { 'os.type': 'linux' } },
      capabilities: 0x1fff,
      health: { healthy: true, status: 'running' },
      effectiveConfigHash: 'cafe',
      lastSequenceNum: 4,
    });
    expect(await getAgent(w.database.db, 'a2')).toMatchObject({
      status: 'offline',
      disconnectReason: 'agent_disconnect',
      lastDisconnectedAt: date(30),
    });
    expect(await listHistory(w.database.db, 'a2')).toMatchObject([
      {
        connectionId: 'c2',
        connectedAt: date(0),
        disconnectedAt: date(30),
        durationSeconds: 30,
        gatewayId: 'gw-a',
      },
    ]);
    expect(await transitions('a2')).toEqual(['null->online connected', 'online->offline agent_disconnect']);
    const metrics = await w.metrics();
    expect(metrics).toMatch(
      /opamp_worker_events_written_total\{type="connection_opened",service="worker"\} 2/,
    );
    expect(metrics).toMatch(/opamp_worker_events_written_total\{type="agent_state",service="worker"\} 1/);
    expect(metrics).toMatch(/opamp_worker_batch_events_count\{service="worker"\} 1/);
  });

  it('pairs history rows across reconnects and events that arrive out of order', async () => {
    await send(close('a3', 'c3', 3, 20, 'heartbeat_timeout')); // the close lands before its open
    await send(open('a3', 'c3', 3, 0));
    expect(await getAgent(w.database.db, 'a3')).toMatchObject({ status: 'offline' });
    expect(await listHistory(w.database.db, 'a3')).toMatchObject([
      { connectionId: 'c3', connectedAt: date(0), disconnectedAt: date(20), durationSeconds: 20 },
    ]);

    await send(open('a4', 'c4a', 4, 0));
    await send(open('a4', 'c4b', 5, 10, 'gw-b')); // reconnected elsewhere before the old close landed
    await send(close('a4', 'c4a', 4, 11, 'connection_closed'));
    expect(await getAgent(w.database.db, 'a4')).toMatchObject({
      status: 'online',
      currentConnectionId: 'c4b',
    });
    const history = await listHistory(w.database.db, 'a4');
    expect(history.map((h) => [h.connectionId, h.disconnectReason])).toEqual([
      ['c4b', null],
      ['c4a', 'connection_closed'],
    ]);
    expect(await transitions('a4')).toEqual(['null->online connected']);
  });

  it('replaying every completed job changes no row', async () => {
    await idle();
    const before = await dumpTables(w.database.db, { physical: true });
    const done = await queue.getJobs(['completed']);
    expect(done.length).toBeGreaterThanOrEqual(6);
    await queue.addBulk(
      done.map((j) => ({
        name: JOBS.eventBatch,
        data: j.data,
        opts: { jobId: `replay.${j.id}`, attempts: 3 },
      })),
    );
    await eventually(async () => expect(await queue.getCompletedCount()).toBe(done.length * 2), {
      timeoutMs: 10_000,
    });
    expect(await dumpTables(w.database.db, { physical: true })).toEqual(before);
  });
});

describe('worker: heartbeat flush', () => {
  it('copies every last-seen from Redis to Postgres on its schedule and exports the lag', async () => {
    const redis = createPresenceRedis({ url: redisFx.url, onError: () => {} });
    await eventually(() => expect(redis.status).toBe('ready'));
    const writer = createPresenceWriter({ redis, keyPrefix: redisFx.prefix });
    const ids = Array.from({ length: 2000 }, (_, i) => `hb-${i}`);
    for (const id of ids) writer.touch(id);
    expect((await writer.flush()).written).toBe(2000);
    const inRedis = await readLastSeen(redis, ids, redisFx.prefix);

    await eventually(
      async () => {
        const rows = await w.database.sql<{ id: string; ms: string }[]>`
          select id, (extract(epoch from last_seen_at) * 1000)::bigint::text as ms
          from agents where id like 'hb-%'`;
        expect(rows).toHaveLength(2000);
        for (const r of rows) expect(Number(r.ms)).toBe(inRedis.get(r.id));
      },
      { timeoutMs: 10_000 },
    );
    const metrics = await w.metrics();
    expect(metrics).toMatch(/opamp_worker_heartbeat_flush_lag_seconds\{service="worker"\} \d/);
    const flushed = Number(
      /opamp_worker_heartbeat_flush_entries_total\{service="worker"\} (\d+)/.exec(metrics)?.[1],
    );
    expect(flushed).toBeGreaterThanOrEqual(2000);
    const delay = /opamp_worker_heartbeat_flush_delay_seconds_bucket\{le="2",service="worker"\} (\d+)/.exec(
      metrics,
    );
    expect(Number(delay?.[1])).toBeGreaterThanOrEqual(1);
    redis.disconnect();
  });

  it('reports healthy and ready on its ops port', async () => {
    const base = `http://127.0.0.1:${w.worker.opsPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
