import { eventually, type PrivateRedis, privateRedis } from '@opamp-fleet/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from './catalog.js';
import { createEventProducer } from './event-producer.js';
import { createQueueRedis } from './redis-connection.js';
import { createEventWorker } from './workers.js';

// Fault tests: a private redis-server, so killing, restarting and pausing it are safe.
let server: PrivateRedis;
let admin: Redis;

beforeAll(async () => {
  server = await privateRedis();
  admin = new Redis(server.url, { retryStrategy: () => 20, maxRetriesPerRequest: null });
  admin.on('error', () => {});
});

afterAll(async () => {
  admin.disconnect();
  await server.stop();
});

const event = (i: number): AgentEvent => ({
  type: 'connection_closed',
  agentId: `agent-${i}`,
  connectionId: `conn-${i}`,
  connectionEpoch: i + 1,
  gatewayId: 'gw-1',
  reason: 'agent_disconnect',
  at: i,
});

function clients() {
  const producerRedis = createQueueRedis({
    url: server.url,
    role: 'producer',
    maxReconnectDelayMs: 50,
    onError: () => {},
  });
  const workerRedis = createQueueRedis({
    url: server.url,
    role: 'worker',
    maxReconnectDelayMs: 50,
    onError: () => {},
  });
  return { producerRedis, workerRedis };
}

describe('event producer against a failing Redis', () => {
  it('buffers while Redis is down, drops only the oldest over maxBuffered, and delivers the rest', async () => {
    const { producerRedis, workerRedis } = clients();
    await eventually(() => expect(producerRedis.status).toBe('ready'));
    const prefix = 'down:bull';
    const received: number[] = [];
    const worker = createEventWorker({
      connection: workerRedis,
      prefix,
      handler: async (batch) => {
        for (const e of batch.events) received.push(e.connectionEpoch - 1);
      },
    });
    let dropped = 0;
    let addErrors = 0;
    const producer = createEventProducer({
      connection: producerRedis,
      prefix,
      producerId: 'gw-1',
      maxBatch: 50,
      maxBatchesPerAdd: 4,
      maxBuffered: 1000,
      flushMs: 5,
      retryBaseMs: 20,
      retryMaxMs: 100,
      observer: { onDropped: (n) => (dropped += n), onAddError: () => addErrors++ },
    });

    for (let i = 0; i < 100; i++) producer.emit(event(i));
    expect(await producer.flush()).toBe(true);
    await eventually(() => expect(received).toHaveLength(100), { timeoutMs: 10_000 });

    await server.kill9();
    let maxBuffered = 0;
    for (let i = 100; i < 1400; i++) {
      producer.emit(event(i));
      maxBuffered = Math.max(maxBuffered, producer.buffered);
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5)); // let adds fail meanwhile
    }
    expect(await producer.flush()).toBe(false);
    expect(addErrors).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(1000 + 4 * 50);
    // whole batches are dropped, and a batch cut by the timer may be partial
    const kept = producer.buffered;
    expect(kept).toBeGreaterThan(1000 - 50);
    expect(kept).toBeLessThanOrEqual(1000);
    expect(dropped).toBe(1300 - kept);
    expect(producer.dropped).toBe(dropped);

    await server.restart();
    await eventually(() => expect(received).toHaveLength(100 + kept), { timeoutMs: 15_000 });
    expect(producer.buffered).toBe(0);
    // nothing lost but the oldest events of the outage
    const newest = Array.from({ length: kept }, (_, i) => 1400 - kept + i);
    const expected = [...Array.from({ length: 100 }, (_, i) => i), ...newest];
    expect([...received].sort((a, b) => a - b)).toEqual(expected);
    expect(await producer.close()).toBe(0);
    await worker.close();
    producerRedis.disconnect();
    workerRedis.disconnect();
  });

  it('re-adds a batch whose add timed out under the same id: a hung Redis causes no duplicates', async () => {
    if (server.pid <= 0) await server.restart(); // the previous test failed while Redis was down
    await eventually(async () => expect(await admin.ping()).toBe('PONG'), { timeoutMs: 10_000 });
    const { producerRedis, workerRedis } = clients();
    await eventually(() => expect(producerRedis.status).toBe('ready'));
    const prefix = 'paused:bull';
    const batches: number[] = [];
    let addErrors = 0;
    const producer = createEventProducer({
      connection: producerRedis,
      prefix,
      producerId: 'gw-1',
      maxBatch: 50,
      addTimeoutMs: 50,
      retryBaseMs: 20,
      retryMaxMs: 40,
      observer: { onAddError: () => addErrors++ },
    });
    producer.emit(event(0));
    expect(await producer.flush()).toBe(true); // BullMQ has loaded its scripts

    await admin.client('PAUSE', 600, 'ALL');
    for (let i = 1; i <= 200; i++) producer.emit(event(i));
    expect(await producer.flush()).toBe(false); // the add reached Redis but got no answer in time
    await eventually(() => expect(addErrors).toBeGreaterThanOrEqual(3), { timeoutMs: 5000 }); // retries queue up too
    await eventually(async () => expect(await producer.flush()).toBe(true), { timeoutMs: 5000 });

    const worker = createEventWorker({
      connection: workerRedis,
      prefix,
      handler: async (batch) => {
        batches.push(batch.events.length);
      },
    });
    await eventually(() => expect(batches.reduce((a, b) => a + b, 0)).toBe(201), { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200)); // a duplicate would show up here
    expect([...batches].sort((a, b) => a - b)).toEqual([1, 50, 50, 50, 50]);
    await producer.close();
    await worker.close();
    producerRedis.disconnect();
    workerRedis.disconnect();
  });
});
