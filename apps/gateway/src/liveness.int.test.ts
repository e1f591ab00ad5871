import { AgentCapabilities } from '@opamp-fleet/opamp';
import { createCommandBus, createConnectionRegistry, readLastSeen } from '@opamp-fleet/presence';
import {
  DEFAULT_TEST_AGENT_CAPABILITIES,
  eventually,
  type RedisFixture,
  redisFixture,
} from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './testing/harness.js';

let fx: RedisFixture;
let gw: TestGateway;

beforeAll(async () => {
  fx = await redisFixture();
  gw = await startTestGateway(fx.url, fx.prefix, {
    SOCKET_KEEPALIVE_TOUCH_SECONDS: '1',
    REANNOUNCE_INTERVAL_SECONDS: '1',
    EVENT_FLUSH_INTERVAL_MS: '10',
  });
});
afterAll(async () => {
  await gw?.stop();
  await fx?.stop();
});

const lastSeen = async (id: string) => (await readLastSeen(gw.redis, [id], fx.prefix)).get(id) ?? null;

describe('what keeps an agent alive', () => {
  it('an open socket keeps an agent without ReportsHeartbeat alive; an agent with it only by messages', async () => {
    const bySocket = await gw.connect({
      capabilities: DEFAULT_TEST_AGENT_CAPABILITIES & ~AgentCapabilities.ReportsHeartbeat,
    });
    const byMessages = await gw.connect(); // reports heartbeats
    await bySocket.send();
    await byMessages.send();
    const first = await eventually(async () => {
      const a = await lastSeen(bySocket.id);
      const b = await lastSeen(byMessages.id);
      expect(a).not.toBeNull();
      expect(b).not.toBeNull();
      return { a: a!, b: b! };
    });
    const reannounces = await gw.metric('opamp_gateway_reannounces_total');
    // both stay silent with their sockets open: keepalive touches and re-announces go on meanwhile
    await eventually(
      async () => {
        expect(await lastSeen(bySocket.id)).toBeGreaterThan(first.a + 1500);
        expect(await gw.metric('opamp_gateway_reannounces_total')).toBeGreaterThanOrEqual(reannounces + 2);
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(await gw.metric('opamp_gateway_keepalive_touches_total')).toBeGreaterThan(0);
    // re-announces re-wrote the time of its last message, not their own (1.5 s and more later): a
    // write is Redis TIME minus the age measured when its batch was sent, so each may land later by
    // that batch's transit time (ms; tens of ms on a loaded host), and ZADD GT keeps the latest
    expect((await lastSeen(byMessages.id))! - first.b).toBeLessThan(250);
    // a message moves it again
    await byMessages.heartbeat();
    await eventually(async () => expect(await lastSeen(byMessages.id)).toBeGreaterThan(first.b + 1000));
    await Promise.all([bySocket.close(), byMessages.close()]);
  });

  it('heartbeat_timeout: closes the socket with 4001, reports the close and releases the registry entry', async () => {
    const agent = await gw.connect();
    await agent.send();
    const registry = createConnectionRegistry({ redis: gw.redis, keyPrefix: fx.prefix });
    const owner = await registry.lookup(agent.id);
    expect(owner?.gatewayId).toBe(gw.config.gatewayId);
    const bus = createCommandBus({ redis: gw.redis, keyPrefix: fx.prefix });
    expect(
      await bus.send(gw.config.gatewayId, {
        type: 'close',
        agentId: agent.id,
        connectionId: owner!.connectionId,
        reason: 'heartbeat_timeout',
      }),
    ).toBe(1);
    await bus.close();
    expect(await agent.waitForClose()).toEqual({ code: 4001, reason: 'heartbeat_timeout' });
    await eventually(async () => {
      expect(await registry.lookup(agent.id)).toBeNull();
      const events = await gw.events(agent.id);
      expect(events.map((e) => [e.type, e.type === 'connection_closed' ? e.reason : null])).toEqual([
        ['connection_opened', null],
        ['agent_state', null],
        ['connection_closed', 'heartbeat_timeout'],
      ]);
    });
  });
});
