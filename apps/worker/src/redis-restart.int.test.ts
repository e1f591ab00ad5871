/**
 * Fault test: the Redis under the worker (a private server) is killed and comes back empty. The
 * worker keeps consuming, restores the heartbeat flush schedule it lost, and flushes again.
 */
import { migrate } from '@opamp-fleet/db';
import { createPresenceRedis, createPresenceWriter } from '@opamp-fleet/presence';
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
  type PostgresFixture,
  type PrivateRedis,
  postgresFixture,
  privateRedis,
} from '@opamp-fleet/testkit';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessWorker, startInProcessWorker } from './testing/in-process.js';

const PREFIX = 'opamp:';

let redisServer: PrivateRedis;
let pgFx: PostgresFixture;
let w: InProcessWorker;
let producerRedis: Redis;
let presenceRedis: Redis;
let producer: EventProducer;

beforeAll(async () => {
  [redisServer, pgFx] = await Promise.all([privateRedis(), postgresFixture()]);
  await migrate(pgFx.url);
  w = await startInProcessWorker({
    REDIS_URL: redisServer.url,
    REDIS_KEY_PREFIX: PREFIX,
    DATABASE_URL: pgFx.url,
    HEARTBEAT_FLUSH_INTERVAL_MS: '100',
    WORKER_STUCK_AFTER_MS: '1000', // liveness checks (and schedule repairs) every 250 ms
    JOB_LOCK_DURATION_MS: '1000',
    JOB_RETRY_BASE_DELAY_MS: '50',
    JOB_RETRY_MAX_DELAY_MS: '500',
  });
  producerRedis = createQueueRedis({
    url: redisServer.url,
    role: 'producer',
    maxReconnectDelayMs: 50,
    onError: () => {},
  });
  presenceRedis = createPresenceRedis({ url: redisServer.url, maxReconnectDelayMs: 50, onError: () => {} });
  await eventually(() => expect([producerRedis.status, presenceRedis.status]).toEqual(['ready', 'ready']));
  producer = createEventProducer({
    connection: producerRedis,
    prefix: queuePrefix(PREFIX),
    producerId: 'gw-1',
    flushMs: 10,
    retryMaxMs: 200,
  });
});

afterAll(async () => {
  await producer?.close();
  await w?.stop();
  producerRedis?.disconnect();
  presenceRedis?.disconnect();
  await Promise.all([redisServer?.stop(), pgFx?.stop()]);
});

const opened = (i: number): AgentEvent => ({
  type: 'connection_opened',
  agentId: `agent-${i}`,
  connectionId: `conn-${i}`,
  connectionEpoch: i + 1,
  gatewayId: 'gw-1',
  transport: 'ws',
  remoteAddress: null,
  at: Date.UTC(2026, 0, 1) + i,
});

async function rows(): Promise<{ agents: number; seen: number }> {
  const [r] = await w.database.sql<{ agents: number; seen: number }[]>`
    select count(*)::int as agents, count(last_seen_at)::int as seen from agents`;
  return r!;
}

describe('Redis restarts empty under a running worker', () => {
  it('keeps writing events and restores the heartbeat flush schedule', async () => {
    const writer = createPresenceWriter({ redis: presenceRedis, keyPrefix: PREFIX });
    for (let i = 0; i < 10; i++) {
      producer.emit(opened(i));
      writer.touch(`agent-${i}`);
    }
    await writer.flush();
    await eventually(async () => expect(await rows()).toEqual({ agents: 10, seen: 10 }), {
      timeoutMs: 10_000,
    });

    await redisServer.kill9();
    await redisServer.restart(); // empty: no jobs, no scheduler, no watermark, no last-seen
    for (let i = 10; i < 20; i++) producer.emit(opened(i));
    await eventually(async () => expect((await rows()).agents).toBe(20), { timeoutMs: 15_000 });

    const queue = new Queue(QUEUES.heartbeatFlush, { connection: w.queueRedis, prefix: queuePrefix(PREFIX) });
    await eventually(async () => expect(await queue.getJobSchedulersCount()).toBe(1), { timeoutMs: 10_000 });
    await eventually(
      async () => {
        expect((await writer.flush()).failed).toBe(0);
        for (let i = 10; i < 20; i++) writer.touch(`agent-${i}`);
        await writer.flush();
        expect(await rows()).toEqual({ agents: 20, seen: 20 });
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(w.worker.opsPort).not.toBeNull();
    expect((await fetch(`http://127.0.0.1:${w.worker.opsPort}/healthz`)).status).toBe(200);
    await queue.close();
  }, 45_000);
});
