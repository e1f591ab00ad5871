import { encodeWsAgentFrame, newInstanceUid, uidBytesToId } from '@opamp-fleet/opamp';
import type { AgentEvent } from '@opamp-fleet/queue';
import {
  eventually,
  type PrivateRedis,
  privateRedis,
  type RedisFixture,
  redisFixture,
} from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway } from './testing/harness.js';

describe('Redis down', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await privateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('buffers events with sockets up, delivers them after the restart, and opens unclaimed connections then', async () => {
    const prefix = 'events-outage:';
    const gw = await startTestGateway(redis.url, prefix, {
      EVENT_FLUSH_INTERVAL_MS: '10',
      REDIS_EPOCH_CHECK_INTERVAL_MS: '100',
    });
    try {
      const before = await gw.connect();
      await before.send();
      const opened = await eventually(async () => {
        const events = await gw.events(before.id);
        expect(events).toHaveLength(2);
        return events[0]!;
      });

      await redis.kill9();
      await before.send({ health: { healthy: false, lastError: 'disk full' } });
      const during = await gw.connect();
      await during.send(); // its claim fails: no epoch, its state waits
      await during.send({ health: { healthy: true, status: 'recovered' } });
      await before.disconnect();
      expect(during.isOpen).toBe(true);
      expect(await gw.metric('opamp_gateway_events_buffered')).toBeGreaterThanOrEqual(2);
      await eventually(async () =>
        expect(await gw.metric('opamp_gateway_event_add_errors_total')).toBeGreaterThan(0),
      );

      await redis.restart();
      // The opened event of `before` was lost with Redis's data; what was buffered arrives.
      const lateBefore = await eventually(
        async () => {
          const events = await gw.events(before.id);
          expect(events).toHaveLength(2);
          return events;
        },
        { timeoutMs: 15_000 },
      );
      expect(lateBefore[0]).toMatchObject({
        type: 'agent_state',
        connectionEpoch: opened.connectionEpoch,
        health: { healthy: false, lastError: 'disk full' },
      });
      expect(lateBefore[1]).toMatchObject({
        type: 'connection_closed',
        connectionEpoch: opened.connectionEpoch,
        reason: 'agent_disconnect',
      });

      // `during` is opened by the re-announce after the restart, with its pending state after it.
      const lateDuring: AgentEvent[] = await eventually(
        async () => {
          const events = await gw.events(during.id);
          expect(events).toHaveLength(2);
          return events;
        },
        { timeoutMs: 15_000 },
      );
      expect(lateDuring[0]).toMatchObject({ type: 'connection_opened', transport: 'ws' });
      expect(lateDuring[1]).toMatchObject({
        type: 'agent_state',
        connectionEpoch: lateDuring[0]!.connectionEpoch,
        sequenceNum: 1,
        description: { identifying: { 'service.name': 'opamp-fleet-test-agent' } },
        health: { healthy: true, status: 'recovered' },
      });
      // The epoch counter was lost too: it restarted above every epoch handed out before.
      expect(lateDuring[0]!.connectionEpoch).toBeGreaterThan(opened.connectionEpoch);
      expect(await gw.metric('opamp_gateway_events_dropped_total')).toBe(0);
      await during.close();
    } finally {
      await gw.stop();
    }
  });

  it('drops the oldest events over EVENT_MAX_BUFFERED and counts them', async () => {
    const gw = await startTestGateway(redis.url, 'events-bound:', {
      EVENT_BATCH_MAX: '2',
      EVENT_MAX_BUFFERED: '4',
    });
    try {
      const agent = await gw.connect();
      await agent.send();
      await redis.kill9();
      for (let i = 0; i < 5; i++) await agent.send({ health: { healthy: i % 2 === 0 } });
      expect(await gw.metric('opamp_gateway_events_dropped_total')).toBeGreaterThan(0);
      expect(await gw.metric('opamp_gateway_events_buffered')).toBeLessThanOrEqual(4 + 2);
      expect(agent.isOpen).toBe(true);
      await redis.restart();
    } finally {
      await gw.stop();
    }
  });
});

describe('idle timeout', () => {
  let fx: RedisFixture;
  beforeAll(async () => {
    fx = await redisFixture();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('a socket silent past WS_IDLE_TIMEOUT_SECONDS is closed as idle_timeout', async () => {
    const gw = await startTestGateway(fx.url, fx.prefix, {
      EVENT_FLUSH_INTERVAL_MS: '10',
      WS_IDLE_TIMEOUT_SECONDS: '8',
      HEARTBEAT_INTERVAL_SECONDS: '4',
      FIRST_MESSAGE_TIMEOUT_MS: '1000',
    });
    try {
      const raw = new WebSocket(gw.wsUrl);
      await new Promise((resolve) => raw.once('open', resolve));
      const uid = newInstanceUid();
      const replied = new Promise((resolve) => raw.once('message', resolve));
      raw.send(encodeWsAgentFrame({ instanceUid: uid, sequenceNum: 0, capabilities: 1 }));
      await replied;
      // Stop reading: pings go unanswered, as with a peer that vanished without a FIN.
      (raw as unknown as { _socket: { pause(): void } })._socket.pause();
      const events = await eventually(
        async () => {
          const list = await gw.events(uidBytesToId(uid));
          expect(list).toHaveLength(3);
          return list;
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );
      expect(events[2]).toMatchObject({ type: 'connection_closed', reason: 'idle_timeout' });
      expect(await gw.metric('opamp_gateway_ws_closes_total', { reason: 'idle_timeout' })).toBe(1);
      raw.terminate();
    } finally {
      await gw.stop();
    }
  }, 30_000);
});
