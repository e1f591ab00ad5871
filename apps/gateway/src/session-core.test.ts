import {
  AgentCapabilities,
  AgentToServerFlags,
  encodeAgentToServer,
  encodeWsAgentFrame,
  newInstanceUid,
  resolveCodecLimits,
  ServerToAgentFlags,
  uidBytesToId,
  uidBytesToUlid,
} from '@opamp-fleet/opamp';
import type { AdvanceResult, HttpSession, SessionAdvance } from '@opamp-fleet/presence';
import type { AgentEvent } from '@opamp-fleet/queue';
import { createLogger, Registry } from '@opamp-fleet/telemetry';
import { describe, expect, it } from 'vitest';
import { AgentEvents } from './agent-events.js';
import { createGatewayMetrics } from './metrics.js';
import { type Connection, SessionCore } from './session-core.js';

/** In-memory session store with the HTTP-session rules of the Redis one. */
class MemorySessions {
  readonly seq = new Map<string, number>();
  readonly caps = new Map<string, number>();
  readonly http = new Map<string, HttpSession>();
  calls = 0;
  down = false;
  private epoch = 100;
  async advance(agentId: string, u: SessionAdvance): Promise<AdvanceResult> {
    this.calls += 1;
    if (this.down) throw new Error('redis down');
    const prev = this.seq.get(agentId);
    const prevCaps = this.caps.get(agentId);
    this.seq.set(agentId, u.sequenceNum);
    this.caps.set(agentId, u.capabilities);
    let session = this.http.get(agentId) ?? null;
    let ended: HttpSession | null = null;
    let opened = false;
    const via = u.via;
    const restarted = via?.transport === 'http' && prev !== undefined && u.sequenceNum < prev;
    if (
      session &&
      (via?.transport === 'ws' || (via?.transport === 'http' && (via.disconnect || restarted)))
    ) {
      ended = session;
      session = null;
      this.http.delete(agentId);
    }
    if (via?.transport === 'http' && !via.disconnect && session === null) {
      session = { connectionId: via.connectionId, epoch: ++this.epoch };
      this.http.set(agentId, session);
      opened = true;
    }
    return {
      known: prev !== undefined,
      prevSequenceNum: prev ?? null,
      prevCapabilities: prevCaps ?? null,
      httpSession: session,
      httpOpened: opened,
      httpEnded: ended,
    };
  }

  async reopenHttpSession(agentId: string, connectionId: string, seq: number): Promise<HttpSession | null> {
    if (this.down) throw new Error('redis down');
    if (this.seq.get(agentId) !== seq || this.http.has(agentId)) return null;
    const session = { connectionId, epoch: ++this.epoch };
    this.http.set(agentId, session);
    return session;
  }
}

function setup(binds: Array<'ok' | 'duplicate'> = []) {
  const sessions = new MemorySessions();
  const touches: Array<[string, number | undefined]> = [];
  const checked: Array<[string, number | undefined, number | undefined]> = [];
  const bound: string[] = [];
  const emitted: AgentEvent[] = [];
  const metrics = createGatewayMetrics(new Registry(), { presencePending: () => 0, eventsBuffered: () => 0 });
  const events = new AgentEvents({
    gatewayId: 'gw',
    sink: { emit: (e) => emitted.push(e) },
    metrics,
    now: () => 1_700_000_000_000,
  });
  const clock = { t: 1000, now: () => clock.t };
  const core = new SessionCore({
    clock,
    limits: resolveCodecLimits({ maxMessageBytes: 1024, maxAnyValueDepth: 8 }),
    heartbeatIntervalSeconds: 30,
    malformedBudget: 2,
    presence: {
      touch: (id, seq, _at, expectedSeq) => {
        touches.push([id, seq]);
        if (expectedSeq !== undefined) checked.push([id, seq, expectedSeq]);
      },
    },
    sessions,
    binder: {
      async bind(_conn, agentId) {
        bound.push(agentId);
        return binds.shift() ?? 'ok';
      },
    },
    events,
    metrics,
    logger: createLogger({ name: 't', level: 'silent' }),
  });
  return { core, sessions, touches, checked, bound, emitted, clock, metrics };
}

let ids = 0;
function conn(transport: 'ws' | 'http' = 'ws'): Connection {
  return {
    id: `c${++ids}`,
    transport,
    remoteAddress: '10.0.0.7',
    epoch: null,
    pendingState: null,
    agentId: null,
    lastUid: undefined,
    syncedSeq: null,
    capabilities: 0,
    settingsOffered: false,
    malformed: 0,
    lastSeenAt: 0,
  };
}

const CAPS = AgentCapabilities.ReportsStatus | AgentCapabilities.AcceptsOpAMPConnectionSettings;
const desc = { identifyingAttributes: [{ key: 'k', value: { stringValue: 'v' } }] };
const frame = (uid: Uint8Array, seq: number, extra = {}) =>
  encodeWsAgentFrame({ instanceUid: uid, sequenceNum: seq, capabilities: CAPS, ...extra });
const full = (r: { flags?: number | null | unknown }) =>
  ((r.flags as number) & ServerToAgentFlags.ReportFullState) !== 0;

describe('SessionCore', () => {
  it('serves in-sequence heartbeats from memory without touching the session store', async () => {
    const { core, sessions, touches } = setup();
    const c = conn();
    const uid = newInstanceUid();
    const first = await core.handle(c, frame(uid, 0, { agentDescription: desc }));
    expect(full(first.reply)).toBe(false);
    expect(first.reply.connectionSettings?.opamp?.heartbeatIntervalSeconds).toBe(30);
    await core.handle(c, frame(uid, 1));
    await core.handle(c, frame(uid, 2));
    expect(sessions.calls).toBe(1);
    expect(touches).toEqual([
      [uidBytesToId(uid), 0],
      [uidBytesToId(uid), 1],
      [uidBytesToId(uid), 2],
    ]);
  });

  it('answers a bare goodbye on a synced WebSocket from memory; a goodbye with state takes the store path', async () => {
    const { core, sessions, touches, metrics } = setup();
    const c = conn();
    const uid = newInstanceUid();
    await core.handle(c, frame(uid, 0, { agentDescription: desc }));
    const bye = await core.handle(c, frame(uid, 1, { agentDisconnect: {} }));
    expect(bye.follow).toBe('goodbye');
    expect(bye.reply.errorResponse).toBeUndefined();
    expect(sessions.calls).toBe(1);
    expect(touches.at(-1)).toEqual([uidBytesToId(uid), 1]);
    const text = await metrics.messages.get();
    expect(text.values.find((v) => v.labels.kind === 'disconnect')?.value).toBe(1);

    // out of sequence, or carrying health: the store sees it
    const d = conn();
    const other = newInstanceUid();
    await core.handle(d, frame(other, 0, { agentDescription: desc }));
    expect((await core.handle(d, frame(other, 5, { agentDisconnect: {} }))).follow).toBe('goodbye');
    expect(sessions.calls).toBe(3);
    const e = conn();
    const third = newInstanceUid();
    await core.handle(e, frame(third, 0, { agentDescription: desc }));
    const withHealth = await core.handle(
      e,
      frame(third, 1, { agentDisconnect: {}, health: { healthy: false } }),
    );
    expect(withHealth.follow).toBe('goodbye');
    expect(sessions.calls).toBe(5);
  });

  it('records when the agent was last seen: every decodable message, fast path included', async () => {
    const { core, clock } = setup();
    const c = conn();
    const uid = newInstanceUid();
    clock.t = 2000;
    await core.handle(c, frame(uid, 0, { agentDescription: desc }));
    expect(c.lastSeenAt).toBe(2000);
    clock.t = 3000;
    await core.handle(c, frame(uid, 1)); // fast path
    expect(c.lastSeenAt).toBe(3000);
    clock.t = 4000;
    await core.handle(c, Uint8Array.from([0, 0xff])); // malformed: not a sign of the agent's life
    core.notBinary(c);
    expect(c.lastSeenAt).toBe(3000);
  });

  it('answers while the store is down and asks for the full state once it is back', async () => {
    const { core, sessions, touches } = setup();
    const c = conn();
    const uid = newInstanceUid();
    await core.handle(c, frame(uid, 0, { agentDescription: desc }));
    sessions.down = true;
    const during = await core.handle(c, frame(uid, 1, { health: { healthy: false } }));
    expect(full(during.reply)).toBe(false);
    expect(during.reply.errorResponse).toBeUndefined();
    expect(touches.at(-1)).toEqual([uidBytesToId(uid), undefined]);
    expect(c.syncedSeq).toBeNull();
    sessions.down = false;
    const after = await core.handle(c, frame(uid, 2));
    expect(full(after.reply)).toBe(true);
  });

  it('assigns a new uid on request and on a duplicate, in the legacy form for legacy agents', async () => {
    const { core, bound } = setup(['duplicate', 'ok']);
    const uid = newInstanceUid();
    const dup = await core.handle(conn(), frame(uid, 0, { agentDescription: desc }));
    expect(dup.reply.agentIdentification?.newInstanceUid).toHaveLength(16);
    expect(bound).toHaveLength(2);
    expect(bound[0]).toBe(uidBytesToId(uid));

    const legacy = uidBytesToUlid(newInstanceUid());
    const req = await core.handle(conn(), frame(legacy, 0, { flags: AgentToServerFlags.RequestInstanceUid }));
    expect(req.reply.instanceUid).toEqual(legacy);
    expect(req.reply.agentIdentification?.newInstanceUid).toHaveLength(26);
  });

  it('closes after the malformed budget and at once for an oversized message', async () => {
    const { core } = setup();
    const c = conn();
    expect((await core.handle(c, Uint8Array.from([0, 0xff]))).follow).toBe('none');
    expect(core.notBinary(c).follow).toBe('close_malformed');
    const big = await core.handle(conn(), new Uint8Array(2000).fill(1));
    expect(big.follow).toBe('close_too_large');
  });

  it('answers agent_disconnect and asks the transport to say goodbye', async () => {
    const { core } = setup();
    const out = await core.handle(conn(), frame(newInstanceUid(), 0, { agentDisconnect: {} }));
    expect(out.follow).toBe('goodbye');
  });

  it('offers HTTP agents the settings on first contact and full reports, not on every poll', async () => {
    const { core } = setup();
    const uid = newInstanceUid();
    const body = (seq: number, extra = {}) =>
      encodeAgentToServer({ instanceUid: uid, sequenceNum: seq, capabilities: CAPS, ...extra });
    expect((await core.handle(conn('http'), body(1))).reply.connectionSettings).toBeDefined();
    const poll = await core.handle(conn('http'), body(2));
    expect(poll.reply.connectionSettings).toBeUndefined();
    expect(full(poll.reply)).toBe(false);
    expect(
      (await core.handle(conn('http'), body(3, { agentDescription: desc }))).reply.connectionSettings,
    ).toBeDefined();
  });
});

describe('SessionCore events', () => {
  const HEALTH = { healthy: true, status: 'ok' };

  it('emits agent_state with the WebSocket epoch for state reports, not for in-sequence heartbeats', async () => {
    const { core, emitted } = setup();
    const c = conn();
    c.epoch = 7;
    const uid = newInstanceUid();
    await core.handle(c, frame(uid, 0, { agentDescription: desc, health: HEALTH }));
    await core.handle(c, frame(uid, 1));
    await core.handle(c, frame(uid, 2, { health: { healthy: false } }));
    expect(emitted).toEqual([
      {
        type: 'agent_state',
        agentId: uidBytesToId(uid),
        connectionEpoch: 7,
        sequenceNum: 0,
        at: 1_700_000_000_000,
        capabilities: CAPS,
        description: { identifying: { k: 'v' }, nonIdentifying: {} },
        health: { healthy: true, status: 'ok' },
      },
      {
        type: 'agent_state',
        agentId: uidBytesToId(uid),
        connectionEpoch: 7,
        sequenceNum: 2,
        at: 1_700_000_000_000,
        capabilities: CAPS,
        health: { healthy: false },
      },
    ]);
  });

  it('reports capabilities alone when they change, and on status messages without state parts', async () => {
    const { core, emitted } = setup();
    const c = conn();
    c.epoch = 1;
    const uid = newInstanceUid();
    await core.handle(c, frame(uid, 0));
    await core.handle(c, frame(uid, 1, { capabilities: CAPS | AgentCapabilities.ReportsHealth }));
    await core.handle(
      c,
      frame(uid, 2, { capabilities: CAPS | AgentCapabilities.ReportsHealth, remoteConfigStatus: {} }),
    );
    await core.handle(
      c,
      frame(uid, 3, { capabilities: CAPS | AgentCapabilities.ReportsHealth, agentDisconnect: {} }),
    );
    expect(emitted.map((e) => (e.type === 'agent_state' ? [e.sequenceNum, e.capabilities] : e.type))).toEqual(
      [
        [0, CAPS],
        [1, CAPS | AgentCapabilities.ReportsHealth],
        [2, CAPS | AgentCapabilities.ReportsHealth],
      ],
    );
  });

  it('keeps state reported before a WebSocket has an epoch pending, merged', async () => {
    const { core, emitted } = setup();
    const c = conn();
    const uid = newInstanceUid();
    await core.handle(c, frame(uid, 0, { agentDescription: desc }));
    await core.handle(c, frame(uid, 1, { health: HEALTH }));
    expect(emitted).toEqual([]);
    expect(c.pendingState).toEqual({
      sequenceNum: 1,
      part: {
        capabilities: CAPS,
        description: { identifying: { k: 'v' }, nonIdentifying: {} },
        health: HEALTH,
      },
    });
  });

  it('opens an HTTP session on the first poll only, and closes it on agent_disconnect', async () => {
    const { core, emitted } = setup();
    const uid = newInstanceUid();
    const id = uidBytesToId(uid);
    const body = (seq: number, extra = {}) =>
      encodeAgentToServer({ instanceUid: uid, sequenceNum: seq, capabilities: CAPS, ...extra });
    const first = conn('http');
    await core.handle(first, body(1, { agentDescription: desc }));
    await core.handle(conn('http'), body(2));
    await core.handle(conn('http'), body(3, { agentDisconnect: {}, health: HEALTH }));
    expect(emitted.map((e) => [e.type, e.connectionEpoch, 'reason' in e ? e.reason : undefined])).toEqual([
      ['connection_opened', 101, undefined],
      ['agent_state', 101, undefined],
      ['agent_state', 101, undefined],
      ['connection_closed', 101, 'agent_disconnect'],
    ]);
    expect(emitted[0]).toMatchObject({
      agentId: id,
      connectionId: first.id,
      transport: 'http',
      remoteAddress: '10.0.0.7',
      gatewayId: 'gw',
    });
    expect(emitted[3]).toMatchObject({ connectionId: first.id });
  });

  it('closes an HTTP session as replaced by a WebSocket or a restarted agent', async () => {
    const { core, emitted } = setup();
    const uid = newInstanceUid();
    const body = (seq: number) =>
      encodeAgentToServer({ instanceUid: uid, sequenceNum: seq, capabilities: CAPS });
    await core.handle(conn('http'), body(5));
    await core.handle(conn('http'), body(0)); // restarted: a new session
    const ws = conn();
    ws.epoch = 300;
    await core.handle(ws, frame(uid, 1));
    expect(emitted.map((e) => [e.type, e.connectionEpoch, 'reason' in e ? e.reason : undefined])).toEqual([
      ['connection_opened', 101, undefined],
      ['agent_state', 101, undefined],
      ['connection_closed', 101, 'replaced'],
      ['connection_opened', 102, undefined],
      ['connection_closed', 102, 'replaced'],
    ]);
  });

  it('emits nothing for HTTP agents while the store is down (no epoch to give)', async () => {
    const { core, sessions, emitted } = setup();
    sessions.down = true;
    const out = await core.handle(
      conn('http'),
      encodeAgentToServer({
        instanceUid: newInstanceUid(),
        sequenceNum: 1,
        capabilities: CAPS,
        agentDescription: desc,
      }),
    );
    expect(out.reply.errorResponse).toBeUndefined();
    expect(emitted).toEqual([]);
  });
});

describe('SessionCore plain-HTTP session cache', () => {
  const body = (uid: Uint8Array, seq: number, extra = {}) =>
    encodeAgentToServer({ instanceUid: uid, sequenceNum: seq, capabilities: CAPS, ...extra });

  it('answers in-sequence bare polls of a stored agent from the cache, with a checked touch', async () => {
    const { core, sessions, checked } = setup();
    const uid = newInstanceUid();
    const id = uidBytesToId(uid);
    await core.handle(conn('http'), body(uid, 1, { agentDescription: desc }));
    const poll = conn('http');
    const out = core.handle(poll, body(uid, 2));
    expect(out).not.toBeInstanceOf(Promise); // answered synchronously
    expect(full((out as { reply: { flags?: unknown } }).reply)).toBe(false);
    expect(poll.agentId).toBe(id);
    await core.handle(conn('http'), body(uid, 3));
    expect(sessions.calls).toBe(1);
    expect(checked).toEqual([
      [id, 2, 1],
      [id, 3, 2],
    ]);
    // not from the cache: a gap, other capabilities, a status message
    await core.handle(conn('http'), body(uid, 5));
    await core.handle(conn('http'), body(uid, 6, { capabilities: CAPS | AgentCapabilities.ReportsHealth }));
    await core.handle(
      conn('http'),
      body(uid, 7, { capabilities: CAPS | AgentCapabilities.ReportsHealth, health: { healthy: true } }),
    );
    expect(sessions.calls).toBe(4);
  });

  it('forgets an agent whose message could not be stored, said goodbye, or came over a WebSocket', async () => {
    const { core, sessions } = setup();
    const [down, bye, ws] = [newInstanceUid(), newInstanceUid(), newInstanceUid()];
    for (const uid of [down, bye, ws]) await core.handle(conn('http'), body(uid, 1));
    sessions.down = true;
    await core.handle(conn('http'), body(down, 2, { health: { healthy: false } }));
    sessions.down = false;
    await core.handle(conn('http'), body(bye, 2, { agentDisconnect: {} }));
    const socket = conn();
    socket.epoch = 9;
    await core.handle(socket, frame(ws, 2));
    const calls = sessions.calls;
    expect(full((await core.handle(conn('http'), body(down, 3))).reply)).toBe(true); // the store: a gap
    await core.handle(conn('http'), body(bye, 3));
    await core.handle(conn('http'), body(ws, 3));
    expect(sessions.calls).toBe(calls + 3);
  });

  it('caches an agent under the uid it was given', async () => {
    const { core, sessions } = setup();
    const out = await core.handle(
      conn('http'),
      body(newInstanceUid(), 1, { flags: AgentToServerFlags.RequestInstanceUid }),
    );
    const given = out.reply.agentIdentification!.newInstanceUid as Uint8Array;
    await core.handle(conn('http'), body(given, 2));
    expect(sessions.calls).toBe(1);
  });

  it('failed checks: a stale entry is dropped; an ended session is reopened once, else dropped', async () => {
    const { core, sessions, emitted, metrics } = setup();
    const [stale, ended, gone, broken] = [
      newInstanceUid(),
      newInstanceUid(),
      newInstanceUid(),
      newInstanceUid(),
    ];
    for (const uid of [stale, ended, gone, broken]) {
      await core.handle(conn('http'), body(uid, 1));
      await core.handle(conn('http'), body(uid, 2));
    }
    const [staleId, endedId, goneId, brokenId] = [
      uidBytesToId(stale),
      uidBytesToId(ended),
      uidBytesToId(gone),
      uidBytesToId(broken),
    ];
    for (const id of [endedId, goneId, brokenId]) sessions.http.delete(id); // the sweeper ended them
    sessions.seq.set(endedId, 2); // the checked touch wrote seq 2
    sessions.seq.set(goneId, 7); // a newer message landed elsewhere before the reopen
    sessions.seq.set(brokenId, 2);
    emitted.length = 0;
    const reopenCall = core.sessionChecks([
      { agentId: staleId, sequenceNum: 2, result: 'stale' },
      { agentId: endedId, sequenceNum: 2, result: 'ended' },
      { agentId: goneId, sequenceNum: 2, result: 'ended' },
      { agentId: 'never-cached', sequenceNum: 1, result: 'ended' },
    ]);
    sessions.down = true;
    const failing = core.sessionChecks([{ agentId: brokenId, sequenceNum: 2, result: 'ended' }]);
    sessions.down = false;
    await core.settled();
    await Promise.all([reopenCall, failing]);
    expect(emitted).toEqual([
      expect.objectContaining({ type: 'connection_opened', agentId: endedId, transport: 'http' }),
    ]);
    expect(sessions.http.get(endedId)?.connectionId).toBe(
      (emitted[0] as { connectionId: string }).connectionId,
    );
    expect((await metrics.redisErrors.get()).values).toEqual([
      expect.objectContaining({ labels: { operation: 'session_reopen' }, value: 1 }),
    ]);
    const calls = sessions.calls;
    await core.handle(conn('http'), body(ended, 3)); // still cached
    expect(sessions.calls).toBe(calls);
    for (const uid of [stale, gone, broken]) await core.handle(conn('http'), body(uid, 3));
    expect(sessions.calls).toBe(calls + 3);
  });

  it('forgets every agent when Redis lost its data', async () => {
    const { core, sessions } = setup();
    const uid = newInstanceUid();
    await core.handle(conn('http'), body(uid, 1));
    core.forgetHttpSessions();
    await core.handle(conn('http'), body(uid, 2));
    expect(sessions.calls).toBe(2);
  });
});
