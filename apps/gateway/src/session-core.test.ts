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
import type { AdvanceResult, SessionAdvance } from '@opamp-fleet/presence';
import { createLogger, Registry } from '@opamp-fleet/telemetry';
import { describe, expect, it } from 'vitest';
import { createGatewayMetrics } from './metrics.js';
import { type Connection, SessionCore } from './session-core.js';

class MemorySessions {
  readonly seq = new Map<string, number>();
  calls = 0;
  down = false;
  async advance(agentId: string, u: SessionAdvance): Promise<AdvanceResult> {
    this.calls += 1;
    if (this.down) throw new Error('redis down');
    const prev = this.seq.get(agentId);
    this.seq.set(agentId, u.sequenceNum);
    return { known: prev !== undefined, prevSequenceNum: prev ?? null };
  }
}

function setup(binds: Array<'ok' | 'duplicate'> = []) {
  const sessions = new MemorySessions();
  const touches: Array<[string, number | undefined]> = [];
  const bound: string[] = [];
  const core = new SessionCore({
    limits: resolveCodecLimits({ maxMessageBytes: 1024, maxAnyValueDepth: 8 }),
    heartbeatIntervalSeconds: 30,
    malformedBudget: 2,
    presence: { touch: (id, seq) => touches.push([id, seq]) },
    sessions,
    binder: {
      async bind(_conn, agentId) {
        bound.push(agentId);
        return binds.shift() ?? 'ok';
      },
    },
    metrics: createGatewayMetrics(new Registry(), () => 0),
    logger: createLogger({ name: 't', level: 'silent' }),
  });
  return { core, sessions, touches, bound };
}

function conn(transport: 'ws' | 'http' = 'ws'): Connection {
  return {
    id: 'c',
    transport,
    agentId: null,
    lastUid: undefined,
    syncedSeq: null,
    capabilities: 0,
    settingsOffered: false,
    malformed: 0,
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
