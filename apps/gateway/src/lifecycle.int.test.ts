import { newInstanceUid } from '@opamp-fleet/opamp';
import { createConnectionRegistry, readLastSeen } from '@opamp-fleet/presence';
import {
  eventually,
  type PrivateRedis,
  privateRedis,
  type RedisFixture,
  redisFixture,
  type TestAgent,
} from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from './testing/harness.js';

let fx: RedisFixture;
beforeAll(async () => {
  fx = await redisFixture();
});
afterAll(async () => {
  await fx?.stop();
});

describe('drain', () => {
  it('is not ready, refuses new upgrades, closes in paced batches with 1001, releases and flushes', async () => {
    const gw = await startTestGateway(fx.url, fx.prefix, { DRAIN_BATCH_SIZE: '2', DRAIN_INTERVAL_MS: '200' });
    const agents: TestAgent[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await gw.connect();
      await a.send();
      agents.push(a);
    }
    let openAtFirstClose = -1;
    const closes = agents.map((a) =>
      a.waitForClose(5000).then((c) => {
        if (openAtFirstClose < 0) openAtFirstClose = agents.filter((x) => x.isOpen).length;
        return c;
      }),
    );
    const drained = gw.gateway.drain();
    expect(gw.gateway.ready).toBe(false);
    expect((await fetch(`${gw.opsUrl}/readyz`)).status).toBe(503);
    await expect(gw.connect()).rejects.toThrow();
    await drained;
    for (const c of await Promise.all(closes)) expect(c.code).toBe(1001);
    // Batches of 2 every 200 ms: when the first socket closed, the last batches were still open.
    expect(openAtFirstClose).toBeGreaterThanOrEqual(3);
    const registry = createConnectionRegistry({ redis: gw.redis, keyPrefix: fx.prefix });
    for (const a of agents) expect(await registry.lookup(a.id)).toBeNull();
    const seen = await readLastSeen(
      gw.redis,
      agents.map((a) => a.id),
      fx.prefix,
    );
    for (const a of agents) expect(seen.get(a.id)).not.toBeNull();
    await gw.stop();
  });
});

describe('two gateways', () => {
  it('closes the old connection on the other gateway when an agent reconnects to this one', async () => {
    const one = await startTestGateway(fx.url, fx.prefix);
    const two = await startTestGateway(fx.url, fx.prefix);
    try {
      const uid = newInstanceUid();
      const a = await one.connect({ instanceUid: uid });
      await a.send();
      const b = await two.connect({ instanceUid: uid });
      await b.send();
      expect(await a.waitForClose()).toEqual({ code: 4000, reason: 'replaced' });
      const owner = await createConnectionRegistry({ redis: two.redis, keyPrefix: fx.prefix }).lookup(b.id);
      expect(owner?.gatewayId).toBe(two.config.gatewayId);
      await b.close();
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });
});

describe('Redis outage', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await privateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('keeps sockets up and answering, buffers presence, and heals after a restart', async () => {
    const gw = await startTestGateway(redis.url, 'outage:', {
      REDIS_EPOCH_CHECK_INTERVAL_MS: '100',
      PRESENCE_FLUSH_INTERVAL_MS: '50',
    });
    try {
      const agent = await gw.connect();
      await agent.send();
      await redis.kill9();
      for (let i = 0; i < 3; i++) expect((await agent.heartbeat()).errorResponse).toBeNull();
      const status = await agent.send({ health: { healthy: false } });
      expect(status.errorResponse).toBeNull();
      expect(await gw.metric('opamp_gateway_presence_pending')).toBeGreaterThan(0);
      await redis.restart();
      await eventually(
        async () => {
          const seen = await readLastSeen(gw.redis, [agent.id], 'outage:');
          expect(seen.get(agent.id)).not.toBeNull();
          const owner = await createConnectionRegistry({ redis: gw.redis, keyPrefix: 'outage:' }).lookup(
            agent.id,
          );
          expect(owner?.gatewayId).toBe(gw.config.gatewayId);
        },
        { timeoutMs: 10_000 },
      );
      expect(await gw.metric('opamp_gateway_reannounces_total', { trigger: 'redis_epoch' })).toBeGreaterThan(
        0,
      );
      expect(agent.isOpen).toBe(true);
      // The state sent during the outage was lost with Redis: the agent is asked for it again.
      expect(agent.fullStatePending).toBe(false);
      const after = await agent.heartbeat();
      expect(Number(after.flags) & 1).toBe(1);
    } finally {
      await gw.stop();
    }
  });

  it('re-announces every held connection by itself after FLUSHALL', async () => {
    const gw = await startTestGateway(redis.url, 'flush:', { REDIS_EPOCH_CHECK_INTERVAL_MS: '100' });
    try {
      const agents = await Promise.all([gw.connect(), gw.connect(), gw.connect()]);
      for (const a of agents) await a.send();
      const registry = createConnectionRegistry({ redis: gw.redis, keyPrefix: 'flush:' });
      await eventually(async () => expect(await gw.redis.zcard('flush:lastseen')).toBe(3));
      await gw.redis.flushall();
      await eventually(
        async () => {
          expect(await gw.redis.zcard('flush:lastseen')).toBe(3);
          for (const a of agents) expect((await registry.lookup(a.id))?.gatewayId).toBe(gw.config.gatewayId);
        },
        { timeoutMs: 5_000 },
      );
      expect(await gw.metric('opamp_gateway_reannounces_total', { trigger: 'redis_epoch' })).toBeGreaterThan(
        0,
      );
      for (const a of agents) expect(a.isOpen).toBe(true);
    } finally {
      await gw.stop();
    }
  });

  it('starts without Redis and subscribes to its command channel once Redis is up', async () => {
    await redis.kill9();
    const first = await startTestGateway(redis.url, 'late:', {}, { waitForRedis: false });
    const second = await startTestGateway(redis.url, 'late:', {}, { waitForRedis: false });
    try {
      await redis.restart();
      const channel = `late:gw:${first.config.gatewayId}`;
      await eventually(
        async () => {
          const [, subscribers] = (await second.redis.pubsub('NUMSUB', channel)) as [string, number];
          expect(subscribers).toBe(1);
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      const uid = newInstanceUid();
      const a = await first.connect({ instanceUid: uid });
      await a.send();
      const b = await second.connect({ instanceUid: uid });
      await b.send();
      expect(await a.waitForClose()).toEqual({ code: 4000, reason: 'replaced' });
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
