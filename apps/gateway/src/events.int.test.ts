import {
  AgentCapabilities,
  encodeAgentToServer,
  encodeWsAgentFrame,
  newInstanceUid,
  uidBytesToId,
} from '@opamp-fleet/opamp';
import { createCommandBus, createConnectionRegistry } from '@opamp-fleet/presence';
import type { AgentEvent } from '@opamp-fleet/queue';
import {
  DEFAULT_TEST_AGENT_CAPABILITIES,
  eventually,
  type RedisFixture,
  redisFixture,
} from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { readJobIds } from './testing/events.js';
import { startTestGateway, type TestGateway } from './testing/harness.js';

let fx: RedisFixture;
let gw: TestGateway;
const FAST = { EVENT_FLUSH_INTERVAL_MS: '10', MALFORMED_MESSAGE_BUDGET: '2' };

beforeAll(async () => {
  fx = await redisFixture();
  gw = await startTestGateway(fx.url, fx.prefix, FAST);
});
afterAll(async () => {
  await gw?.stop();
  await fx?.stop();
});

/** type, epoch and reason of each event: the shape most assertions compare. */
const brief = (events: AgentEvent[]) =>
  events.map((e) => [e.type, e.connectionEpoch, e.type === 'connection_closed' ? e.reason : null]);

async function eventsOf(agentId: string, count: number, from: TestGateway = gw): Promise<AgentEvent[]> {
  return eventually(async () => {
    const events = await from.events(agentId);
    expect(events).toHaveLength(count);
    return events;
  });
}

function post(body: Uint8Array) {
  return fetch(gw.httpUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
}

describe('connection and state events of WebSocket agents', () => {
  it('a goodbye followed at once by the close (no wait for the reply) is recorded as agent_disconnect', async () => {
    const uid = newInstanceUid();
    const a = await gw.connect({ instanceUid: uid });
    await a.send();
    a.sendRaw(
      encodeWsAgentFrame({
        instanceUid: uid,
        sequenceNum: 1,
        capabilities: DEFAULT_TEST_AGENT_CAPABILITIES,
        agentDisconnect: {},
      }),
    );
    await a.close();
    const [, , closed] = await eventsOf(uidBytesToId(uid), 3);
    expect(closed).toMatchObject({ type: 'connection_closed', reason: 'agent_disconnect' });
  });

  it('connect, status, goodbye: exactly opened, state, closed(agent_disconnect); a reconnect has a greater epoch', async () => {
    const uid = newInstanceUid();
    const a = await gw.connect({ instanceUid: uid });
    await a.send();
    await a.heartbeat();
    await a.heartbeat();
    await a.disconnect();
    const id = uidBytesToId(uid);
    const [opened, state, closed] = await eventsOf(id, 3);
    expect(opened).toEqual({
      type: 'connection_opened',
      agentId: id,
      connectionId: expect.any(String),
      connectionEpoch: expect.any(Number),
      gatewayId: gw.config.gatewayId,
      transport: 'ws',
      remoteAddress: '127.0.0.1',
      at: expect.any(Number),
    });
    const epoch = opened!.connectionEpoch;
    expect(state).toEqual({
      type: 'agent_state',
      agentId: id,
      connectionEpoch: epoch,
      sequenceNum: 0,
      at: expect.any(Number),
      capabilities: DEFAULT_TEST_AGENT_CAPABILITIES,
      description: { identifying: { 'service.name': 'opamp-fleet-test-agent' }, nonIdentifying: {} },
      health: { healthy: true, status: 'running' },
    });
    expect(closed).toMatchObject({
      type: 'connection_closed',
      connectionId: (opened as { connectionId: string }).connectionId,
      connectionEpoch: epoch,
      gatewayId: gw.config.gatewayId,
      reason: 'agent_disconnect',
    });
    expect(Math.abs(opened!.at - Date.now())).toBeLessThan(60_000);

    const b = await gw.connect({ instanceUid: uid });
    await b.send();
    await b.close();
    const all = await eventsOf(id, 6);
    expect(brief(all.slice(3))).toEqual([
      ['connection_opened', expect.any(Number), null],
      ['agent_state', all[3]!.connectionEpoch, null],
      ['connection_closed', all[3]!.connectionEpoch, 'connection_closed'],
    ]);
    expect(all[3]!.connectionEpoch).toBeGreaterThan(epoch);
    expect(
      await gw.metric('opamp_gateway_events_total', { type: 'connection_opened' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('a takeover closes the old connection as replaced before the new one opens', async () => {
    const uid = newInstanceUid();
    const a = await gw.connect({ instanceUid: uid });
    await a.send();
    const b = await gw.connect({ instanceUid: uid });
    await b.send();
    expect((await a.waitForClose()).code).toBe(4000);
    const events = await eventsOf(uidBytesToId(uid), 5);
    const [ea, eb] = [events[0]!.connectionEpoch, events[3]!.connectionEpoch];
    expect(brief(events)).toEqual([
      ['connection_opened', ea, null],
      ['agent_state', ea, null],
      ['connection_closed', ea, 'replaced'],
      ['connection_opened', eb, null],
      ['agent_state', eb, null],
    ]);
    expect(eb).toBeGreaterThan(ea);
    await b.close();
  });

  it('reports reconnect_requested, protocol_error and a dropped socket as close reasons', async () => {
    const asked = await gw.connect();
    await asked.send();
    const owner = await createConnectionRegistry({ redis: gw.redis, keyPrefix: fx.prefix }).lookup(asked.id);
    const bus = createCommandBus({ redis: gw.redis, keyPrefix: fx.prefix });
    await bus.send(gw.config.gatewayId, {
      type: 'close',
      agentId: asked.id,
      connectionId: owner!.connectionId,
      reason: 'reconnect_requested',
    });
    await bus.close();
    expect((await asked.waitForClose()).code).toBe(1012);

    const broken = await gw.connect();
    await broken.send();
    broken.sendRaw(new Uint8Array([0, 0xff, 0xff]));
    broken.sendRaw(new Uint8Array([0, 0xff, 0xff]));
    expect((await broken.waitForClose()).code).toBe(1008);

    const dropped = await gw.connect();
    await dropped.send();
    dropped.terminate();

    for (const [agent, reason] of [
      [asked, 'reconnect_requested'],
      [broken, 'protocol_error'],
      [dropped, 'connection_closed'],
    ] as const) {
      const events = await eventsOf(agent.id, 3);
      expect(events[2]).toMatchObject({ type: 'connection_closed', reason });
    }
  });

  it('a socket that goes on under another instance_uid closes one binding and opens another', async () => {
    const raw = new WebSocket(gw.wsUrl);
    await new Promise((resolve) => raw.once('open', resolve));
    let replies = 0;
    raw.on('message', () => {
      replies += 1;
    });
    const [one, two] = [newInstanceUid(), newInstanceUid()];
    raw.send(encodeWsAgentFrame({ instanceUid: one, sequenceNum: 0, capabilities: 1 }));
    raw.send(encodeWsAgentFrame({ instanceUid: two, sequenceNum: 0, capabilities: 1 }));
    await eventually(() => expect(replies).toBe(2));
    raw.close();
    const first = await eventsOf(uidBytesToId(one), 3);
    const second = await eventsOf(uidBytesToId(two), 3);
    expect(first[2]).toMatchObject({ type: 'connection_closed', reason: 'instance_uid_changed' });
    const [c1, c2] = [first[0], second[0]] as Array<AgentEvent & { connectionId: string }>;
    expect(c2!.connectionId).toBe(`${c1!.connectionId}.1`);
    expect(second[0]!.connectionEpoch).toBeGreaterThan(first[0]!.connectionEpoch);
    expect(second[2]).toMatchObject({ type: 'connection_closed', reason: 'connection_closed' });
  });
});

describe('HTTP sessions', () => {
  it('the first poll opens a session once; agent_disconnect closes it; a WebSocket replaces the next one', async () => {
    const uid = newInstanceUid();
    const id = uidBytesToId(uid);
    const body = (seq: number, extra = {}) =>
      encodeAgentToServer({
        instanceUid: uid,
        sequenceNum: seq,
        capabilities: AgentCapabilities.ReportsStatus,
        ...extra,
      });
    const desc = { identifyingAttributes: [{ key: 'service.name', value: { stringValue: 'http-agent' } }] };
    expect((await post(body(1, { agentDescription: desc }))).status).toBe(200);
    expect((await post(body(2))).status).toBe(200);
    expect((await post(body(3))).status).toBe(200);
    expect((await post(body(4, { agentDisconnect: {} }))).status).toBe(200);
    const events = await eventsOf(id, 3);
    const epoch = events[0]!.connectionEpoch;
    expect(events[0]).toMatchObject({
      type: 'connection_opened',
      transport: 'http',
      remoteAddress: '127.0.0.1',
      gatewayId: gw.config.gatewayId,
    });
    expect(events[1]).toMatchObject({
      type: 'agent_state',
      connectionEpoch: epoch,
      sequenceNum: 1,
      description: { identifying: { 'service.name': 'http-agent' }, nonIdentifying: {} },
    });
    expect(events[2]).toMatchObject({
      type: 'connection_closed',
      connectionId: (events[0] as { connectionId: string }).connectionId,
      connectionEpoch: epoch,
      reason: 'agent_disconnect',
    });

    await post(body(5));
    const ws = await gw.connect({ instanceUid: uid, firstSequenceNum: 6 });
    await ws.heartbeat();
    const after = await eventsOf(id, 7);
    const httpEpoch = after[3]!.connectionEpoch;
    expect(brief(after.slice(3))).toEqual([
      ['connection_opened', httpEpoch, null],
      ['connection_opened', expect.any(Number), null],
      ['connection_closed', httpEpoch, 'replaced'],
      ['agent_state', after[4]!.connectionEpoch, null],
    ]);
    expect(httpEpoch).toBeGreaterThan(epoch);
    expect(after[4]!.connectionEpoch).toBeGreaterThan(httpEpoch);
    await ws.close();
  });
});

describe('across gateways and restarts', () => {
  it('epochs strictly increase across two gateways, and a takeover across them closes as replaced', async () => {
    const other = await startTestGateway(fx.url, fx.prefix, FAST);
    try {
      const opened: number[] = [];
      for (let i = 0; i < 6; i++) {
        const agent = await (i % 2 === 0 ? gw : other).connect();
        await agent.send();
        opened.push((await eventsOf(agent.id, 2))[0]!.connectionEpoch);
        await agent.close();
      }
      for (let i = 1; i < opened.length; i++) expect(opened[i]).toBeGreaterThan(opened[i - 1]!);

      const uid = newInstanceUid();
      const a = await gw.connect({ instanceUid: uid });
      await a.send();
      const b = await other.connect({ instanceUid: uid });
      await b.send();
      await a.waitForClose();
      const events = await eventsOf(uidBytesToId(uid), 5);
      const closed = events.find((e) => e.type === 'connection_closed');
      expect(closed).toMatchObject({ gatewayId: gw.config.gatewayId, reason: 'replaced' });
      expect(closed!.connectionEpoch).toBe(events[0]!.connectionEpoch);
      const newer = events.filter(
        (e) => e.type === 'connection_opened' && e.gatewayId === other.config.gatewayId,
      );
      expect(newer[0]!.connectionEpoch).toBeGreaterThan(closed!.connectionEpoch);
      await b.close();
    } finally {
      await other.stop();
    }
  });

  it('drain closes every connection as gateway_shutdown and hands the events over before it resolves', async () => {
    const own = await startTestGateway(fx.url, fx.prefix, { EVENT_FLUSH_INTERVAL_MS: '60000' });
    const agents = [await own.connect(), await own.connect()];
    for (const a of agents) await a.send();
    await own.gateway.drain();
    for (const a of agents) {
      const events = await own.events(a.id);
      expect(brief(events).map(([type, , reason]) => [type, reason])).toEqual([
        ['connection_opened', null],
        ['agent_state', null],
        ['connection_closed', 'gateway_shutdown'],
      ]);
    }
    expect(await own.metric('opamp_gateway_events_buffered')).toBe(0);
    await own.stop();
  });

  it('a restarted gateway with the same GATEWAY_ID never reuses a job id', async () => {
    const env = { ...FAST, GATEWAY_ID: 'restarted-gateway' };
    const ids: string[] = [];
    for (let run = 0; run < 2; run++) {
      const g = await startTestGateway(fx.url, fx.prefix, env);
      const agent = await g.connect();
      await agent.send();
      await agent.disconnect();
      ids.push(agent.id);
      await g.stop();
    }
    for (const id of ids) expect(brief(await gw.events(id))).toHaveLength(3);
    const jobIds = (await readJobIds(gw.redis, fx.prefix)).filter((j) => j.startsWith('restarted-gateway.'));
    expect(new Set(jobIds.map((j) => j.split('.')[1])).size).toBe(2);
  });
});
