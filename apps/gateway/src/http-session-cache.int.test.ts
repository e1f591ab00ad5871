import {
  AgentCapabilities,
  decodeServerToAgent,
  encodeAgentToServer,
  newInstanceUid,
  ServerToAgentFlags,
  uidBytesToId,
  uint64ToBitmask,
} from '@opamp-fleet/opamp';
import { createSessionStore, presenceKeys, readLastSeen } from '@opamp-fleet/presence';
import type { AgentEvent } from '@opamp-fleet/queue';
import {
  eventually,
  type PrivateRedis,
  privateRedis,
  type RedisFixture,
  redisFixture,
} from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './testing/harness.js';

// Plain-HTTP polls answered from the per-process session cache, against a real Redis: what reaches
// the session store and the event queue, and how a cached entry that Redis contradicts heals.

let fx: RedisFixture;
let gw: TestGateway;
const FAST = { EVENT_FLUSH_INTERVAL_MS: '10', PRESENCE_FLUSH_INTERVAL_MS: '20' };
const CAPS =
  AgentCapabilities.ReportsStatus |
  AgentCapabilities.ReportsHeartbeat |
  AgentCapabilities.AcceptsOpAMPConnectionSettings;

beforeAll(async () => {
  fx = await redisFixture();
  gw = await startTestGateway(fx.url, fx.prefix, FAST);
});
afterAll(async () => {
  await gw?.stop();
  await fx?.stop();
});

/** One simulated plain-HTTP agent: every poll is a bare heartbeat unless `extra` adds to it. */
function httpAgent() {
  const uid = newInstanceUid();
  return {
    uid,
    id: uidBytesToId(uid),
    async poll(target: TestGateway, seq: number, extra = {}) {
      const res = await fetch(target.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: encodeAgentToServer({ instanceUid: uid, sequenceNum: seq, capabilities: CAPS, ...extra }),
      });
      expect(res.status).toBe(200);
      const reply = decodeServerToAgent(new Uint8Array(await res.arrayBuffer()));
      expect(Buffer.from(reply.instanceUid).equals(Buffer.from(uid))).toBe(true);
      expect(reply.errorResponse).toBeNull();
      return {
        fullState: (uint64ToBitmask(reply.flags as number) & ServerToAgentFlags.ReportFullState) !== 0,
        settings: reply.connectionSettings != null,
      };
    },
  };
}

const description = {
  agentDescription: { identifyingAttributes: [{ key: 'service.name', value: { stringValue: 'poller' } }] },
};

const brief = (events: AgentEvent[]) =>
  events.map((e) => [e.type, e.connectionEpoch, e.type === 'connection_closed' ? e.reason : null]);

async function eventsOf(target: TestGateway, agentId: string, count: number): Promise<AgentEvent[]> {
  return eventually(async () => {
    const events = await target.events(agentId);
    expect(events).toHaveLength(count);
    return events;
  });
}

async function storedSeq(target: TestGateway, prefix: string, agentId: string): Promise<string | null> {
  return target.redis.hget(presenceKeys(prefix).session(agentId), 'seq');
}

describe('plain-HTTP polls answered from the session cache', () => {
  it('run no session script; their seq and last-seen reach Redis with the next flush; no events', async () => {
    const agent = httpAgent();
    const session = presenceKeys(fx.prefix).session(agent.id);
    expect(await agent.poll(gw, 1, description)).toEqual({ fullState: false, settings: true });
    const updatedAt = await gw.redis.hget(session, 'updated_at');
    for (let seq = 2; seq <= 4; seq++) {
      expect(await agent.poll(gw, seq)).toEqual({ fullState: false, settings: false });
    }
    await eventually(async () => expect(await storedSeq(gw, fx.prefix, agent.id)).toBe('4'));
    expect(await gw.redis.hget(session, 'updated_at')).toBe(updatedAt); // no advance since the first
    expect((await readLastSeen(gw.redis, [agent.id], fx.prefix)).get(agent.id)).not.toBeNull();
    const events = await eventsOf(gw, agent.id, 2);
    expect(brief(events)).toEqual([
      ['connection_opened', events[0]!.connectionEpoch, null],
      ['agent_state', events[0]!.connectionEpoch, null],
    ]);
    // a gap is not answered from the cache: the store sees it and asks for the full state
    expect(await agent.poll(gw, 6)).toEqual({ fullState: true, settings: false });
  });

  it('a session ended while the agent kept polling (sweeper timeout) is opened again after one poll', async () => {
    const agent = httpAgent();
    await agent.poll(gw, 1, description);
    await agent.poll(gw, 2);
    await eventually(async () => expect(await storedSeq(gw, fx.prefix, agent.id)).toBe('2'));
    const [opened] = (await eventsOf(gw, agent.id, 2)) as Array<AgentEvent & { connectionId: string }>;
    const sessions = createSessionStore({ redis: gw.redis, keyPrefix: fx.prefix });
    expect(await sessions.closeHttpSession(agent.id, opened!.connectionId)).not.toBeNull();

    expect(await agent.poll(gw, 3)).toEqual({ fullState: false, settings: false });
    const events = await eventsOf(gw, agent.id, 3);
    expect(events[2]).toMatchObject({
      type: 'connection_opened',
      transport: 'http',
      remoteAddress: '127.0.0.1',
      gatewayId: gw.config.gatewayId,
    });
    const reopened = events[2] as AgentEvent & { connectionId: string };
    expect(reopened.connectionId).not.toBe(opened!.connectionId);
    expect(reopened.connectionEpoch).toBeGreaterThan(opened!.connectionEpoch);
    const state = await sessions.load(agent.id);
    expect(state?.httpSession).toEqual({
      connectionId: reopened.connectionId,
      epoch: reopened.connectionEpoch,
    });
    expect(state?.sequenceNum).toBe(3);
    expect(
      await gw.metric('opamp_gateway_http_session_checks_failed_total', { result: 'ended' }),
    ).toBeGreaterThanOrEqual(1);

    // polls go on in the reopened session, from the cache, without more events
    await agent.poll(gw, 4);
    await eventually(async () => expect(await storedSeq(gw, fx.prefix, agent.id)).toBe('4'));
    expect(await gw.events(agent.id)).toHaveLength(3);
  });

  it('a lost session hash drops the entry: the next poll goes to the store and is asked for the full state', async () => {
    const agent = httpAgent();
    await agent.poll(gw, 1, description);
    await agent.poll(gw, 2);
    await eventually(async () => expect(await storedSeq(gw, fx.prefix, agent.id)).toBe('2'));
    await gw.redis.del(presenceKeys(fx.prefix).session(agent.id)); // expired, or lost with Redis data
    const stale = await gw.metric('opamp_gateway_http_session_checks_failed_total', { result: 'stale' });

    expect(await agent.poll(gw, 3)).toEqual({ fullState: false, settings: false }); // from the cache
    await eventually(async () =>
      expect(await gw.metric('opamp_gateway_http_session_checks_failed_total', { result: 'stale' })).toBe(
        stale + 1,
      ),
    );
    expect(await gw.redis.exists(presenceKeys(fx.prefix).session(agent.id))).toBe(0); // no partial hash
    expect(await agent.poll(gw, 4)).toEqual({ fullState: true, settings: true });
    const events = await eventsOf(gw, agent.id, 4); // a new session, and its state (capabilities)
    expect(events[2]).toMatchObject({ type: 'connection_opened', transport: 'http' });
    expect(events[2]!.connectionEpoch).toBeGreaterThan(events[0]!.connectionEpoch);
  });

  it('a poll answered by another gateway in between wins: the cached entry is dropped, nothing rewound', async () => {
    // a slow flush on `one`, so the other gateway's poll lands before one's cached poll is written
    const one = await startTestGateway(fx.url, fx.prefix, { ...FAST, PRESENCE_FLUSH_INTERVAL_MS: '1000' });
    const other = await startTestGateway(fx.url, fx.prefix, FAST);
    try {
      const agent = httpAgent();
      await agent.poll(one, 1, description);
      expect(await agent.poll(one, 2)).toEqual({ fullState: false, settings: false }); // cached, not written yet
      // the other gateway cannot know seq 2 yet: it sees a gap and asks for the full state
      expect((await agent.poll(other, 3)).fullState).toBe(true);
      await eventually(
        async () =>
          expect(
            await one.metric('opamp_gateway_http_session_checks_failed_total', { result: 'stale' }),
          ).toBe(1),
        { timeoutMs: 5000 },
      );
      expect(await storedSeq(one, fx.prefix, agent.id)).toBe('3'); // the late seq 2 was not written
      expect(await agent.poll(one, 4)).toEqual({ fullState: false, settings: false }); // via the store
      const events = await eventsOf(one, agent.id, 2); // one session, opened once
      expect(brief(events).map(([type]) => type)).toEqual(['connection_opened', 'agent_state']);
    } finally {
      await Promise.all([one.stop(), other.stop()]);
    }
  });

  it('sessions survive a gateway restart: the new process reads the session from the store', async () => {
    const first = await startTestGateway(fx.url, fx.prefix, { ...FAST, GATEWAY_ID: 'restarting-http' });
    const agent = httpAgent();
    await agent.poll(first, 1, description);
    await agent.poll(first, 2); // cached; written by the drain's last flush
    await first.stop();
    expect(await storedSeq(gw, fx.prefix, agent.id)).toBe('2');
    const second = await startTestGateway(fx.url, fx.prefix, { ...FAST, GATEWAY_ID: 'restarting-http' });
    try {
      expect(await agent.poll(second, 3)).toEqual({ fullState: false, settings: false });
      expect(await agent.poll(second, 4)).toEqual({ fullState: false, settings: false });
      await eventually(async () => expect(await storedSeq(second, fx.prefix, agent.id)).toBe('4'));
      expect(await second.events(agent.id)).toHaveLength(2); // the same session: nothing reopened
    } finally {
      await second.stop();
    }
  });
});

describe('plain-HTTP polls while Redis is down', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await privateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('are answered; once Redis is back (its data lost) the agent is asked for its full state', async () => {
    const prefix = 'http-outage:';
    const target = await startTestGateway(redis.url, prefix, {
      ...FAST,
      REDIS_EPOCH_CHECK_INTERVAL_MS: '100',
    });
    try {
      const cached = httpAgent();
      const reporting = httpAgent();
      for (const agent of [cached, reporting]) {
        await agent.poll(target, 1, description);
        await agent.poll(target, 2);
      }
      await redis.kill9();
      expect(await cached.poll(target, 3)).toEqual({ fullState: false, settings: false });
      // a status report cannot be stored: answered all the same, its agent leaves the cache
      expect((await reporting.poll(target, 3, { health: { healthy: false } })).fullState).toBe(false);
      await redis.restart();
      await eventually(
        async () =>
          expect(
            await target.metric('opamp_gateway_reannounces_total', { trigger: 'redis_epoch' }),
          ).toBeGreaterThan(0),
        { timeoutMs: 10_000 },
      );
      expect((await reporting.poll(target, 4)).fullState).toBe(true);
      expect((await cached.poll(target, 4)).fullState).toBe(true);
      await eventually(async () => {
        for (const agent of [cached, reporting]) {
          expect((await readLastSeen(target.redis, [agent.id], prefix)).get(agent.id)).not.toBeNull();
        }
      });
    } finally {
      await target.stop();
    }
  });
});
