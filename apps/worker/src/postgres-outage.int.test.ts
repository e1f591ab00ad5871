/**
 * Fault test: Postgres (a private cluster) is down for 30 s while gateways keep emitting events.
 * Jobs retry with back-off; none may end in the failed set; after recovery every event is in
 * Postgres exactly once.
 */
import { migrate } from '@opamp-fleet/db';
import {
  type AgentEvent,
  createEventProducer,
  createQueueRedis,
  type EventProducer,
  QUEUES,
  queuePrefix,
} from '@opamp-fleet/queue';
import {
  eventually,
  type PrivatePostgres,
  privatePostgres,
  type RedisFixture,
  redisFixture,
} from '@opamp-fleet/testkit';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessWorker, startInProcessWorker } from './testing/in-process.js';

const OUTAGE_MS = 30_000;

let pg: PrivatePostgres;
let redisFx: RedisFixture;
let w: InProcessWorker;
let producerRedis: Redis;
let producer: EventProducer;
let queue: Queue;

beforeAll(async () => {
  [pg, redisFx] = await Promise.all([privatePostgres(), redisFixture()]);
  await migrate(pg.url);
  w = await startInProcessWorker({
    REDIS_URL: redisFx.url,
    REDIS_KEY_PREFIX: redisFx.prefix,
    DATABASE_URL: pg.url,
    HEARTBEAT_FLUSH_INTERVAL_MS: '250',
    JOB_RETRY_BASE_DELAY_MS: '250',
    JOB_RETRY_MAX_DELAY_MS: '2000',
  });
  producerRedis = createQueueRedis({ url: redisFx.url, role: 'producer', onError: () => {} });
  await eventually(() => expect(producerRedis.status).toBe('ready'));
  const prefix = queuePrefix(redisFx.prefix);
  producer = createEventProducer({ connection: producerRedis, prefix, producerId: 'gw-1', flushMs: 20 });
  queue = new Queue(QUEUES.agentEvents, { connection: w.queueRedis, prefix });
}, 60_000);

afterAll(async () => {
  await producer?.close();
  await queue?.close();
  await w?.stop();
  producerRedis?.disconnect();
  await Promise.all([pg?.stop(), redisFx?.stop()]);
});

/** One agent's life: connect, report state, disconnect; 3 events, 1 history row, 2 transitions. */
function life(i: number): AgentEvent[] {
  const agentId = `agent-${i}`;
  const connectionId = `conn-${i}`;
  const at = Date.UTC(2026, 0, 1) + i * 1000;
  return [
    {
      type: 'connection_opened',
      agentId,
      connectionId,
      connectionEpoch: i + 1,
      gatewayId: 'gw-1',
      transport: 'ws',
      remoteAddress: null,
      at,
    },
    { type: 'agent_state', agentId, connectionEpoch: i + 1, sequenceNum: 0, at: at + 1, capabilities: i },
    {
      type: 'connection_closed',
      agentId,
      connectionId,
      connectionEpoch: i + 1,
      gatewayId: 'gw-1',
      reason: 'agent_disconnect',
      at: at + 500,
    },
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Postgres down for 30 s', () => {
  it('retries with back-off, fails no job, and lands every event exactly once after recovery', async () => {
    let next = 0;
    const emit = (n: number) => {
      for (let k = 0; k < n; k++) for (const e of life(next++)) producer.emit(e);
    };
    emit(50);
    await eventually(async () => expect(await countRows()).toMatchObject({ history: 50 }), {
      timeoutMs: 10_000,
    });

    await pg.kill9();
    const outageEnds = Date.now() + OUTAGE_MS;
    while (Date.now() < outageEnds) {
      emit(20); // a gateway keeps sending while Postgres is down
      await sleep(500);
    }
    expect((await queue.getJobCounts('delayed', 'wait', 'active')).delayed).toBeGreaterThan(0);
    await pg.restart();
    emit(20);

    const total = next;
    await eventually(
      async () => {
        expect(await countRows()).toEqual({
          agents: total,
          history: total,
          complete: total,
          transitions: 2 * total,
          states: total,
        });
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const counts = await queue.getJobCounts('failed', 'wait', 'active', 'delayed');
    expect(counts).toEqual({ failed: 0, wait: 0, active: 0, delayed: 0 });
    const metrics = await w.metrics();
    const retries =
      /opamp_worker_job_failures_total\{queue="agent-events",outcome="retry",service="worker"\} (\d+)/.exec(
        metrics,
      );
    expect(Number(retries?.[1])).toBeGreaterThan(0);
    expect(metrics).not.toMatch(/outcome="(permanent|exhausted)"/);
  }, 120_000);
});

async function countRows() {
  const [row] = await w.database.sql<
    { agents: number; history: number; complete: number; transitions: number; states: number }[]
  >`select
      (select count(*)::int from agents) as agents,
      (select count(*)::int from agent_connection_history) as history,
      (select count(*)::int from agent_connection_history
        where connected_at is not null and disconnected_at is not null) as complete,
      (select count(*)::int from agent_status_transitions) as transitions,
      (select count(*)::int from agents where last_sequence_num = 0) as states`;
  return row;
}
