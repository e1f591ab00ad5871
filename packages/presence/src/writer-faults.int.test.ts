import { eventually, type PrivateRedis, privateRedis } from '@opamp-fleet/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresenceWriter, type MonotonicClock, readLastSeen } from './presence-writer.js';
import { createPresenceRedis } from './redis-client.js';

// Fault tests: a private redis-server, so counting commands, killing and restarting are safe.
let server: PrivateRedis;
let admin: Redis;

beforeAll(async () => {
  server = await privateRedis();
  admin = new Redis(server.url, { retryStrategy: () => 20 });
  admin.on('error', () => {});
});

afterAll(async () => {
  admin.disconnect();
  await server.stop();
});

async function commandCalls(): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) calls[m[1]!] = Number(m[2]);
  return calls;
}

async function presenceClient(): Promise<Redis> {
  const redis = createPresenceRedis({ url: server.url, maxReconnectDelayMs: 50, onError: () => {} });
  await eventually(() => expect(redis.status).toBe('ready'));
  return redis;
}

describe('PresenceWriter against a private Redis', () => {
  it('sends one script call and one ZADD per chunk, each agent once however often it was touched', async () => {
    const redis = await presenceClient();
    const writer = createPresenceWriter({ redis, keyPrefix: 'count:', chunkSize: 500 });
    writer.touch('warm-up'); // loads the script (EVALSHA -> NOSCRIPT -> EVAL)
    await writer.flush();

    await admin.config('RESETSTAT');
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1200; i++) writer.touch(`agent-${i}`, round);
    }
    expect(writer.pending).toBe(1200);
    expect(await writer.flush()).toEqual({ written: 1200, failed: 0, chunks: 3 });
    const calls = await commandCalls();
    expect(calls.evalsha).toBe(3);
    expect(calls.eval).toBeUndefined();
    expect(calls.zadd).toBe(3); // a chunk's scores go in one ZADD
    expect(calls.hmget).toBe(1200); // one read of each agent's session hash (none exists: no write)
    expect(calls.hset).toBeUndefined();
    expect(await admin.zcard('count:lastseen')).toBe(1201);
    redis.disconnect();
  });

  it('falls back to EVAL when Redis lost its script cache', async () => {
    const redis = await presenceClient();
    const writer = createPresenceWriter({ redis, keyPrefix: 'noscript:' });
    writer.touch('a');
    await writer.flush();
    await admin.script('FLUSH');
    writer.touch('b');
    expect((await writer.flush()).written).toBe(1);
    expect(await admin.zcard('noscript:lastseen')).toBe(2);
    redis.disconnect();
  });

  it('buffers while Redis is down, honours maxPending, and writes everything after recovery', async () => {
    const redis = await presenceClient();
    let t = 0;
    const clock: MonotonicClock = { now: () => t };
    const errors: unknown[] = [];
    let dropped = 0;
    const keyPrefix = 'outage:';
    const writer = createPresenceWriter({
      redis,
      keyPrefix,
      clock,
      maxPending: 100,
      chunkSize: 30,
      observer: {
        onError: (e) => errors.push(e),
        onDropped: (d) => {
          dropped += d;
        },
      },
    });

    for (let i = 0; i < 50; i++) writer.touch(`agent-${i}`);
    await writer.flush();

    await server.kill9();
    // touches keep arriving during the outage; each agent stays one entry
    for (let round = 0; round < 3; round++) {
      t += 1000;
      for (let i = 0; i < 80; i++) writer.touch(`agent-${i}`, round);
      const result = await writer.flush();
      expect(result.written).toBe(0);
      expect(result.failed).toBe(80);
    }
    expect(writer.pending).toBe(80);
    expect(errors.length).toBeGreaterThanOrEqual(3);

    // 40 more agents push the buffer over maxPending: the 20 least recently touched are dropped
    t += 1000;
    for (let i = 80; i < 120; i++) writer.touch(`agent-${i}`);
    expect(writer.pending).toBe(100);
    expect(writer.dropped).toBe(20);
    await writer.flush();
    expect(dropped).toBe(20);

    await server.restart();
    await eventually(() => expect(redis.status).toBe('ready'), { timeoutMs: 10_000 });
    const t0 = Number((await admin.time())[0]) * 1000;
    t += 4000; // the last touch was 4 s ago on the gateway's clock
    const result = await writer.flush();
    expect(result).toEqual({ written: 100, failed: 0, chunks: 4 });
    expect(writer.pending).toBe(0);

    const ids = Array.from({ length: 120 }, (_, i) => `agent-${i}`);
    const scores = await readLastSeen(admin, ids, keyPrefix);
    const present = ids.filter((id) => scores.get(id) !== null);
    // the restart lost what was written before; everything buffered and not dropped is back
    expect(present).toEqual(ids.slice(20));
    for (const id of present) {
      // scored at the time the gateway saw it, not at the time of the flush
      expect(scores.get(id)!).toBeLessThanOrEqual(t0 + 1000 - 4000 + 5);
    }
    await writer.stop();
    redis.disconnect();
  });
});
