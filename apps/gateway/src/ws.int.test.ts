import {
  AgentCapabilities,
  decodeWsServerFrame,
  encodeWsAgentFrame,
  newInstanceUid,
  ServerErrorResponseType,
  ServerToAgentFlags,
  uidBytesToId,
  uint64ToBitmask,
  uint64ToCounter,
} from '@opamp-fleet/opamp';
import { createConnectionRegistry, createSessionStore, readLastSeen } from '@opamp-fleet/presence';
import { eventually, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, type TestGateway } from './testing/harness.js';

let fx: RedisFixture;
let gw: TestGateway;

beforeAll(async () => {
  fx = await redisFixture();
  gw = await startTestGateway(fx.url, fx.prefix, {
    HEARTBEAT_INTERVAL_SECONDS: '15',
    MALFORMED_MESSAGE_BUDGET: '3',
    MAX_MESSAGE_BYTES: '65536',
    FIRST_MESSAGE_TIMEOUT_MS: '300',
  });
});
afterAll(async () => {
  await gw?.stop();
  await fx?.stop();
});

const sessions = () => createSessionStore({ redis: gw.redis, keyPrefix: fx.prefix });
const registry = () => createConnectionRegistry({ redis: gw.redis, keyPrefix: fx.prefix });
const fullState = (flags: number | { low: number }) =>
  (uint64ToBitmask(flags as number) & ServerToAgentFlags.ReportFullState) !== 0;
const same = (a: Uint8Array | null | undefined, b: Uint8Array) => Buffer.from(a ?? []).equals(Buffer.from(b));

describe('WebSocket transport', () => {
  it('answers the first message: uid echoed, capabilities set, heartbeat offered, presence and registry written', async () => {
    const agent = await gw.connect();
    const reply = await agent.send();
    expect(same(reply.instanceUid, agent.uid)).toBe(true);
    expect(uint64ToBitmask(reply.capabilities) & 1).toBe(1);
    expect(fullState(reply.flags)).toBe(false);
    expect(uint64ToCounter(reply.connectionSettings!.opamp!.heartbeatIntervalSeconds!)).toBe(15);
    await eventually(async () => {
      const seen = await readLastSeen(gw.redis, [agent.id], fx.prefix);
      expect(seen.get(agent.id)).toBeGreaterThan(Date.now() - 5000);
    });
    const owner = await registry().lookup(agent.id);
    expect(owner?.gatewayId).toBe(gw.config.gatewayId);
    const next = await agent.heartbeat();
    expect(next.connectionSettings).toBeNull();
    expect(fullState(next.flags)).toBe(false);
    await agent.close();
    await eventually(async () => expect(await registry().lookup(agent.id)).toBeNull());
  });

  it('offers no connection settings to agents without AcceptsOpAMPConnectionSettings', async () => {
    const agent = await gw.connect({ capabilities: AgentCapabilities.ReportsStatus });
    expect((await agent.send()).connectionSettings).toBeNull();
    await agent.close();
  });

  it('asks for the full state after a sequence gap, and not after the full report', async () => {
    const agent = await gw.connect();
    await agent.send();
    expect(fullState((await agent.heartbeat()).flags)).toBe(false);
    agent.skipSequence(3);
    const gap = await agent.heartbeat();
    expect(fullState(gap.flags)).toBe(true);
    expect(agent.fullStatePending).toBe(true);
    expect(fullState((await agent.heartbeat()).flags)).toBe(false);
    expect(fullState((await agent.heartbeat()).flags)).toBe(false);
    await agent.close();
  });

  it('keeps compressed state across reconnects and asks unknown agents for the full state', async () => {
    const first = await gw.connect();
    await first.send();
    await first.heartbeat();
    await first.close();
    // The heartbeat took the fast path: its seq reaches the store with the next presence flush.
    await eventually(async () => expect((await sessions().load(first.id))?.sequenceNum).toBe(1));
    const again = await gw.connect({ instanceUid: first.uid, firstSequenceNum: first.nextSeq });
    again.fullStatePending = false;
    expect(fullState((await again.heartbeat()).flags)).toBe(false);
    await again.close();

    const stranger = await gw.connect({ firstSequenceNum: 7 });
    stranger.fullStatePending = false;
    expect(fullState((await stranger.heartbeat()).flags)).toBe(true);
    await stranger.close();
  });

  it('assigns a new instance_uid on request and moves the agent to it', async () => {
    const agent = await gw.connect();
    const temporary = agent.uid;
    const reply = await agent.requestInstanceUid();
    expect(same(reply.instanceUid, temporary)).toBe(true);
    const assigned = reply.agentIdentification!.newInstanceUid!;
    expect(assigned).toHaveLength(16);
    expect(same(agent.uid, assigned)).toBe(true);
    expect(fullState((await agent.heartbeat()).flags)).toBe(false);
    expect((await registry().lookup(uidBytesToId(assigned)))?.connectionId).toBeTruthy();
    expect(await registry().lookup(uidBytesToId(temporary))).toBeNull();
    await agent.close();
  });

  it('accepts legacy frames without the header byte', async () => {
    const agent = await gw.connect({ legacyFrames: true });
    expect(same((await agent.send()).instanceUid, agent.uid)).toBe(true);
    await agent.close();
  });

  it('treats agent_disconnect as a goodbye: reply, Close frame 1000, registry released', async () => {
    const agent = await gw.connect();
    await agent.send();
    const closed = await agent.disconnect();
    expect(closed.code).toBe(1000);
    expect(agent.replies.at(-1)?.errorResponse).toBeNull();
    await eventually(async () => expect(await registry().lookup(agent.id)).toBeNull());
  });

  it('answers malformed, text and empty frames with BAD_REQUEST and closes after the budget', async () => {
    const agent = await gw.connect();
    await agent.send();
    agent.sendRaw(Uint8Array.from([0x00, 0xff, 0xff, 0xff]));
    const bad = await agent.nextReply();
    expect(bad.errorResponse?.type).toBe(ServerErrorResponseType.BadRequest);
    expect(same(bad.instanceUid, agent.uid)).toBe(true);
    agent.sendRaw('hello');
    expect((await agent.nextReply()).errorResponse?.errorMessage).toMatch(/text frames/);
    agent.sendRaw(new Uint8Array(0));
    expect((await agent.nextReply()).errorResponse?.type).toBe(ServerErrorResponseType.BadRequest);
    expect((await agent.waitForClose()).code).toBe(1008);
    expect(await gw.metric('opamp_gateway_decode_errors_total', { code: 'text_frame' })).toBeGreaterThan(0);
    const other = await gw.connect();
    expect((await other.send()).errorResponse).toBeNull();
    await other.close();
  });

  it('echoes a readable uid from a message that fails to decode', async () => {
    const agent = await gw.connect();
    const frame = encodeWsAgentFrame({ instanceUid: agent.uid, sequenceNum: 0, capabilities: 1 });
    agent.sendRaw(Uint8Array.from([...frame, 0xff]));
    const reply = await agent.nextReply();
    expect(reply.errorResponse?.type).toBe(ServerErrorResponseType.BadRequest);
    expect(same(reply.instanceUid, agent.uid)).toBe(true);
    await agent.close();
  });

  it('closes a socket that sends an oversized frame and keeps serving others', async () => {
    const agent = await gw.connect();
    agent.sendRaw(new Uint8Array(70_000).fill(1));
    expect([1006, 1009]).toContain((await agent.waitForClose()).code);
    const other = await gw.connect();
    expect((await other.send()).errorResponse).toBeNull();
    await other.close();
  });

  it('closes sockets that never send a first message', async () => {
    const agent = await gw.connect();
    const closed = await agent.waitForClose(3000);
    expect(closed).toEqual({ code: 1008, reason: 'no message received in time' });
  });

  it('takes over a live duplicate, then gives a second duplicate in the window a new uid', async () => {
    const uid = newInstanceUid();
    const a = await gw.connect({ instanceUid: uid });
    await a.send();
    const b = await gw.connect({ instanceUid: uid });
    const rb = await b.send();
    expect(rb.agentIdentification).toBeNull();
    expect(await a.waitForClose()).toEqual({ code: 4000, reason: 'replaced' });
    const c = await gw.connect({ instanceUid: uid });
    const rc = await c.send();
    const assigned = rc.agentIdentification?.newInstanceUid;
    expect(assigned).toHaveLength(16);
    expect(same(rc.instanceUid, uid)).toBe(true);
    expect(b.isOpen).toBe(true);
    const owner = await registry().lookup(uidBytesToId(uid));
    expect(owner?.gatewayId).toBe(gw.config.gatewayId);
    expect((await registry().lookup(uidBytesToId(assigned!)))?.gatewayId).toBe(gw.config.gatewayId);
    expect(await gw.metric('opamp_gateway_duplicate_connections_total', { outcome: 'assign_new_uid' })).toBe(
      1,
    );
    await b.close();
    await c.close();
  });

  it('re-announces held connections after their Redis entries were lost', async () => {
    const agent = await gw.connect();
    await agent.send();
    await eventually(async () => expect(await registry().lookup(agent.id)).not.toBeNull());
    await gw.redis.del(`${fx.prefix}owners`, `${fx.prefix}lastseen`);
    await gw.gateway.reannounce();
    expect((await registry().lookup(agent.id))?.gatewayId).toBe(gw.config.gatewayId);
    await eventually(async () => {
      expect((await readLastSeen(gw.redis, [agent.id], fx.prefix)).get(agent.id)).not.toBeNull();
    });
    await agent.close();
  });

  it('closes its connection when re-announce finds another owner', async () => {
    const agent = await gw.connect();
    await agent.send();
    await registry().claim(agent.id, { gatewayId: 'elsewhere', connectionId: 'x' });
    await gw.gateway.reannounce();
    expect((await agent.waitForClose()).code).toBe(4000);
  });

  it('serves many messages sent without waiting, one reply each, in order', async () => {
    const agent = await gw.connect();
    await agent.send();
    const raw = new WebSocket(gw.wsUrl);
    await new Promise((r) => raw.once('open', r));
    const uid = newInstanceUid();
    const replies: number[] = [];
    raw.on('message', (d: Buffer) => replies.push(decodeWsServerFrame(new Uint8Array(d)).instanceUid.length));
    for (let i = 0; i < 20; i++)
      raw.send(encodeWsAgentFrame({ instanceUid: uid, sequenceNum: i, capabilities: 1 }));
    await eventually(() => expect(replies).toHaveLength(20));
    raw.close();
    await agent.close();
  });
});
