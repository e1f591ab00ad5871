import { eventually, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentEvent,
  type EventBatch,
  JOBS,
  QUEUES,
  queuePrefix,
  RETRY_BACKOFF_TYPE,
} from './catalog.js';
import { PermanentJobError } from './errors.js';
import { createEventProducer } from './event-producer.js';
import type { JobOutcome, JobWorker } from './job-worker.js';
import { createQueueRedis } from './redis-connection.js';
import { createEventWorker, createHeartbeatFlushWorker, createHeartbeatSchedule } from './workers.js';

let fx: RedisFixture;
let producerRedis: Redis;
let workerRedis: Redis;
let n = 0;

beforeAll(async () => {
  fx = await redisFixture();
  producerRedis = createQueueRedis({ url: fx.url, role: 'producer', onError: () => {} });
  workerRedis = createQueueRedis({ url: fx.url, role: 'worker', onError: () => {} });
  await eventually(() => expect(producerRedis.status).toBe('ready'));
});

afterAll(async () => {
  producerRedis.disconnect();
  workerRedis.disconnect();
  await fx.stop();
});

/** A fresh BullMQ prefix per test, under the fixture's key prefix. */
function freshPrefix(): string {
  n += 1;
  return queuePrefix(`${fx.prefix}${n}:`);
}

const event = (i: number): AgentEvent => ({
  type: 'connection_opened',
  agentId: `agent-${i}`,
  connectionId: `conn-${i}`,
  connectionEpoch: i + 1,
  gatewayId: 'gw-1',
  transport: 'ws',
  remoteAddress: '127.0.0.1',
  at: 1_700_000_000_000 + i,
});

function eventQueue(prefix: string): Queue {
  const q = new Queue(QUEUES.agentEvents, { connection: workerRedis, prefix });
  q.on('error', () => {});
  return q;
}

/** Adds `count` one-batch jobs `j0`, `j1`, ... (5 attempts, the product's back-off). */
async function addBatches(
  q: Queue,
  count: number,
  make: (j: number) => Pick<EventBatch, 'producerId' | 'events'>,
): Promise<void> {
  for (let j = 0; j < count; j++) {
    const batch: EventBatch = { v: 1, seq: 1, ...make(j) };
    await q.add(JOBS.eventBatch, batch, {
      jobId: `j${j}`,
      attempts: 5,
      backoff: { type: RETRY_BACKOFF_TYPE },
    });
  }
}

describe('event producer and worker', () => {
  it('carries every event in batches of at most maxBatch, one job per batch', async () => {
    const prefix = freshPrefix();
    const seen: EventBatch[] = [];
    const worker = createEventWorker({
      connection: workerRedis,
      prefix,
      concurrency: 2,
      handler: async (batch) => {
        seen.push(batch);
      },
    });
    const added: number[] = [];
    const producer = createEventProducer({
      connection: producerRedis,
      prefix,
      producerId: 'gw:1',
      maxBatch: 100,
      flushMs: 10,
      observer: { onAdded: (batches) => added.push(batches) },
    });
    for (let i = 0; i < 1050; i++) producer.emit(event(i));
    expect(producer.buffered).toBe(1050);
    expect(await producer.flush()).toBe(true);
    expect(producer.buffered).toBe(0);
    await eventually(() => expect(seen.flatMap((b) => b.events)).toHaveLength(1050), { timeoutMs: 10_000 });
    expect(seen.map((b) => b.events.length).sort((a, b) => b - a)[0]).toBe(100);
    expect(seen).toHaveLength(11);
    expect(new Set(seen.flatMap((b) => b.events.map((e) => e.agentId))).size).toBe(1050);
    expect(added.reduce((a, b) => a + b, 0)).toBe(11);
    const q = eventQueue(prefix);
    const [first] = await q.getJobs(['completed'], 0, 0);
    expect(first?.id).toMatch(/^gw_1\.[A-Za-z0-9_-]+\.\d+$/);
    expect(first?.opts.attempts).toBe(100_000);
    await q.close();
    expect(await producer.close()).toBe(0);
    await worker.close();
  });

  it('cuts a partial batch after flushMs without a flush() call', async () => {
    const prefix = freshPrefix();
    const producer = createEventProducer({
      connection: producerRedis,
      prefix,
      producerId: 'gw',
      flushMs: 20,
    });
    producer.emit(event(1));
    const q = eventQueue(prefix);
    await eventually(async () => expect(await q.getWaitingCount()).toBe(1));
    await producer.close();
    await q.close();
  });

  it('retries a failing batch with back-off, fails a permanent error at once, and rejects bad payloads', async () => {
    const prefix = freshPrefix();
    const outcomes: JobOutcome[] = [];
    let calls = 0;
    const worker = createEventWorker({
      connection: workerRedis,
      prefix,
      retryBaseMs: 10,
      retryMaxMs: 20,
      observer: { onProcessed: (_q, outcome) => outcomes.push(outcome) },
      handler: async (batch) => {
        if (batch.producerId === 'poison') throw new PermanentJobError('rejected by the database');
        calls += 1;
        if (calls < 3) throw new Error('database unavailable');
      },
    });
    const producer = createEventProducer({ connection: producerRedis, prefix, producerId: 'gw' });
    producer.emit(event(1));
    await producer.flush();
    const poison = createEventProducer({ connection: producerRedis, prefix, producerId: 'poison' });
    poison.emit(event(2));
    await poison.flush();
    const q = eventQueue(prefix);
    await q.add(JOBS.eventBatch, { v: 1, producerId: 'gw', seq: 9, events: [{ type: 'nope' }] } as never, {
      jobId: 'bad-payload',
      attempts: 5,
    });
    await eventually(async () => expect(await q.getCompletedCount()).toBe(1), { timeoutMs: 10_000 });
    await eventually(async () => expect(await q.getFailedCount()).toBe(2));
    expect([...outcomes].sort()).toEqual(['completed', 'permanent', 'permanent', 'retry', 'retry']);
    const failed = await q.getFailed();
    expect(failed.map((j) => j.attemptsMade).sort()).toEqual([1, 1]);
    expect(failed.find((j) => j.id === 'bad-payload')?.failedReason).toMatch(/invalid event-batch payload/);
    expect((await worker.checkLiveness()).counts).toMatchObject({ failed: 2, wait: 0, active: 0 });
    await Promise.all([producer.close(), poison.close(), worker.close(), q.close()]);
  });

  it('with handleMany: takes waiting jobs into groups up to the event budget, and completes every job', async () => {
    const prefix = freshPrefix();
    const q = eventQueue(prefix);
    // 30 small jobs wait before the worker starts (many gateways, each a few events per batch)
    await addBatches(q, 30, (j) => ({
      producerId: `gw-${j}`,
      events: [0, 1, 2].map((i) => event(j * 3 + i)),
    }));
    const groups: EventBatch[][] = [];
    const singles: EventBatch[] = [];
    const outcomes: JobOutcome[] = [];
    const worker = createEventWorker({
      connection: workerRedis,
      prefix,
      concurrency: 1,
      coalesceMaxEvents: 30,
      observer: { onProcessed: (_q, outcome) => outcomes.push(outcome) },
      handler: async (batch) => {
        singles.push(batch);
      },
      handleMany: async (batches) => {
        groups.push(batches);
      },
    });
    await eventually(async () => expect(await q.getCompletedCount()).toBe(30), { timeoutMs: 10_000 });
    const handled = [...groups.flat(), ...singles].map((b) => b.producerId).sort();
    expect(handled).toEqual(Array.from({ length: 30 }, (_, j) => `gw-${j}`).sort());
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.length + singles.length).toBeLessThan(30);
    // a group stops taking jobs once it holds 30 events: at most 10 jobs of 3
    for (const g of groups) expect(g.flatMap((b) => b.events).length).toBeLessThanOrEqual(30);
    expect(outcomes).toEqual(Array(30).fill('completed'));
    expect((await worker.checkLiveness()).counts).toMatchObject({ wait: 0, active: 0, failed: 0 });
    await Promise.all([worker.close(), q.close()]);
  });

  it('with handleMany: a retryable error retries every job of the group; a permanent one fails only the bad job', async () => {
    const prefix = freshPrefix();
    const q = eventQueue(prefix);
    await addBatches(q, 12, (j) => ({ producerId: j === 5 ? 'poison' : `gw-${j}`, events: [event(j)] }));
    await q.add(JOBS.eventBatch, { v: 1, producerId: 'gw', seq: 9, events: [{ type: 'nope' }] } as never, {
      jobId: 'bad-payload',
      attempts: 5,
    });
    const outcomes: JobOutcome[] = [];
    const written = new Set<string>();
    let groupCalls = 0;
    const write = (batches: EventBatch[]) => {
      if (batches.some((b) => b.producerId === 'poison'))
        throw new PermanentJobError('rejected by the database');
      for (const b of batches) written.add(b.producerId);
    };
    const worker = createEventWorker({
      connection: workerRedis,
      prefix,
      concurrency: 1,
      retryBaseMs: 10,
      retryMaxMs: 20,
      observer: { onProcessed: (_q, outcome) => outcomes.push(outcome) },
      handler: async (batch) => write([batch]),
      handleMany: async (batches) => {
        groupCalls += 1;
        if (groupCalls === 1) throw new Error('database unavailable');
        write(batches);
      },
    });
    await eventually(async () => expect(await q.getCompletedCount()).toBe(11), { timeoutMs: 10_000 });
    await eventually(async () => expect(await q.getFailedCount()).toBe(2));
    expect([...written].sort()).toEqual(
      Array.from({ length: 12 }, (_, j) => `gw-${j}`)
        .filter((id) => id !== 'gw-5')
        .sort(),
    );
    const failed = await q.getFailed();
    expect(failed.map((j) => j.id).sort()).toEqual(['bad-payload', 'j5']);
    expect(failed.find((j) => j.id === 'j5')?.failedReason).toMatch(/rejected by the database/);
    // the first group failed as a whole and was retried: every job of it counted one retry
    expect(outcomes.filter((o) => o === 'retry').length).toBeGreaterThan(1);
    expect(outcomes.filter((o) => o === 'completed')).toHaveLength(11);
    expect(outcomes.filter((o) => o === 'permanent')).toHaveLength(2);
    const completed = await q.getCompleted();
    expect(completed.filter((j) => j.attemptsMade > 0).length).toBeGreaterThan(1);
    await Promise.all([worker.close(), q.close()]);
  });

  it('close() waits for the batch in progress to finish', async () => {
    const prefix = freshPrefix();
    let release: () => void = () => {};
    let started = false;
    let finished = false;
    const worker = createEventWorker({
      connection: workerRedis,
      prefix,
      handler: async () => {
        started = true;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        finished = true;
      },
    });
    const producer = createEventProducer({ connection: producerRedis, prefix, producerId: 'gw' });
    producer.emit(event(1));
    await producer.flush();
    await eventually(() => expect(started).toBe(true));
    const closing = worker.close();
    setTimeout(() => release(), 200);
    await closing;
    expect(finished).toBe(true);
    const q = eventQueue(prefix);
    expect(await q.getCompletedCount()).toBe(1);
    expect(await q.getActiveCount()).toBe(0);
    await Promise.all([producer.close(), q.close()]);
  });

  it('reports a worker that makes no progress while jobs wait as not alive', async () => {
    const prefix = freshPrefix();
    let now = 0;
    const errors: unknown[] = [];
    const worker = createEventWorker({
      connection: workerRedis,
      prefix,
      concurrency: 1,
      stuckAfterMs: 1000,
      closeTimeoutMs: 100,
      clock: { now: () => now },
      observer: { onError: (_q, err) => errors.push(err) },
      handler: () => new Promise(() => {}), // hangs forever
    });
    const producer = createEventProducer({
      connection: producerRedis,
      prefix,
      producerId: 'gw',
      maxBatch: 1,
    });
    producer.emit(event(1));
    producer.emit(event(2));
    await producer.flush();
    const q = eventQueue(prefix);
    await eventually(async () => expect(await q.getActiveCount()).toBe(1));
    expect((await worker.checkLiveness()).alive).toBe(true); // first sight of a waiting job
    now = 1001;
    const verdict = await worker.checkLiveness();
    expect(verdict).toMatchObject({ alive: false, counts: { wait: 1, active: 1 } });
    expect(worker.alive).toBe(false);
    await Promise.all([producer.close(), q.close()]);
    await worker.close(); // gives up waiting after closeTimeoutMs
    expect(errors.map((e) => (e as Error).name)).toEqual(['CloseTimeoutError']);
  });
});

describe('heartbeat flush schedule', () => {
  it('runs the flush repeatedly, one run at a time across workers', async () => {
    const prefix = freshPrefix();
    const schedule = createHeartbeatSchedule({ connection: workerRedis, prefix, everyMs: 50 });
    expect(await schedule.ensure()).toBe(true);
    expect(await schedule.ensure()).toBe(false); // idempotent
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const handler = async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 120)); // longer than the period
      running -= 1;
      runs += 1;
    };
    const workers: JobWorker[] = [
      createHeartbeatFlushWorker({ connection: workerRedis, prefix, handler }),
      createHeartbeatFlushWorker({ connection: workerRedis, prefix, handler }),
    ];
    await eventually(() => expect(runs).toBeGreaterThanOrEqual(5), { timeoutMs: 10_000 });
    expect(maxRunning).toBe(1);
    const q = new Queue(QUEUES.heartbeatFlush, { connection: workerRedis, prefix });
    expect(await q.getJobSchedulersCount()).toBe(1);
    expect(await q.getGlobalConcurrency()).toBe(1);
    await Promise.all(workers.map((w) => w.close()));

    // Redis lost the scheduler (restart without persistence, FLUSHALL): ensure() puts it back
    await q.removeJobScheduler('heartbeat-flush');
    expect(await schedule.ensure()).toBe(true);
    expect(await q.getJobSchedulersCount()).toBe(1);
    const slower = createHeartbeatSchedule({ connection: workerRedis, prefix, everyMs: 80 });
    expect(await slower.ensure()).toBe(true); // a changed period is applied
    expect((await q.getJobScheduler('heartbeat-flush'))?.every).toBe(80);
    await Promise.all([schedule.close(), slower.close(), q.close()]);
  });
});
