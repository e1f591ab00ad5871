import {
  AgentCapabilities,
  decodeAgentToServer,
  encodeAgentToServer,
  isFullState,
  newInstanceUid,
  pb,
  ServerErrorResponseType,
  ServerToAgentFlags,
  type ServerToAgentInit,
} from '@opamp-fleet/opamp';
import { describe, expect, it } from 'vitest';
import { AgentState, closeAction, closeLabel } from './agent-state.js';

/** A reply as the agent receives it: encoded and decoded like on the wire. */
const reply = (init: ServerToAgentInit) => pb.ServerToAgent.decode(pb.ServerToAgent.encode(init).finish());
/** The next message as the server decodes it. */
const sent = (state: AgentState) => decodeAgentToServer(encodeAgentToServer(state.nextMessage()));

describe('AgentState', () => {
  it('sends its full state first, then heartbeats with consecutive sequence numbers', () => {
    const state = new AgentState(7, 10_000);
    const first = sent(state);
    expect(first.sequenceNum).toBe(0);
    expect(isFullState(first)).toBe(true);
    expect(first.capabilities & AgentCapabilities.ReportsEffectiveConfig).not.toBe(0);
    expect(first.raw.agentDescription?.identifyingAttributes?.map((a) => a.key)).toContain(
      'service.instance.id',
    );
    const second = sent(state);
    expect(second.sequenceNum).toBe(1);
    expect(second.raw.agentDescription).toBeNull();
    expect(Buffer.from(second.uid.bytes).equals(state.uid)).toBe(true);
  });

  it('sends the full state again after ReportFullState, and only once', () => {
    const state = new AgentState(0, 10_000);
    sent(state);
    const reaction = state.onReply(
      reply({ instanceUid: state.uid, flags: ServerToAgentFlags.ReportFullState }),
    );
    expect(reaction).toMatchObject({ fullStateRequested: true, error: null });
    expect(state.sendsFullState).toBe(true);
    expect(isFullState(sent(state))).toBe(true);
    expect(isFullState(sent(state))).toBe(false);
  });

  it('switches to the new instance_uid the server assigns', () => {
    const state = new AgentState(0, 10_000);
    sent(state);
    const assigned = newInstanceUid();
    const reaction = state.onReply(
      reply({ instanceUid: state.uid, agentIdentification: { newInstanceUid: assigned } }),
    );
    expect(reaction.uidChanged).toBe(true);
    expect(Buffer.from(state.uid).equals(assigned)).toBe(true);
    expect(Buffer.from(sent(state).uid.bytes).equals(assigned)).toBe(true);
  });

  it('adopts the offered heartbeat interval, and reports it only when it changes', () => {
    const state = new AgentState(0, 10_000);
    const offer = { instanceUid: state.uid, connectionSettings: { opamp: { heartbeatIntervalSeconds: 30 } } };
    expect(state.onReply(reply(offer)).newIntervalMs).toBe(30_000);
    expect(state.intervalMs).toBe(30_000);
    expect(state.onReply(reply(offer)).newIntervalMs).toBeNull();
  });

  it('reads UNAVAILABLE with retry info as a reconnect after that delay', () => {
    const state = new AgentState(0, 10_000);
    const reaction = state.onReply(
      reply({
        instanceUid: state.uid,
        errorResponse: {
          type: ServerErrorResponseType.Unavailable,
          retryInfo: { retryAfterNanoseconds: 2e9 },
        },
      }),
    );
    expect(reaction).toMatchObject({ retryAfterMs: 2000, error: 'error-response-2' });
  });

  it('flags a reply for another agent and a bad request as errors, with no other reaction', () => {
    const state = new AgentState(0, 10_000);
    expect(state.onReply(reply({ instanceUid: newInstanceUid(), flags: 1 }))).toMatchObject({
      error: 'reply-for-other-agent',
      fullStateRequested: false,
    });
    expect(
      state.onReply(
        reply({ instanceUid: state.uid, errorResponse: { type: ServerErrorResponseType.BadRequest } }),
      ),
    ).toMatchObject({ error: 'error-response-1', retryAfterMs: null });
  });

  it('leaves a gap in sequence_num when a message is lost, and says goodbye with agent_disconnect', () => {
    const state = new AgentState(0, 10_000);
    sent(state);
    state.skipSequenceNumber();
    expect(sent(state).sequenceNum).toBe(2);
    const bye = decodeAgentToServer(encodeAgentToServer(state.goodbye()));
    expect(bye.sequenceNum).toBe(3);
    expect(bye.raw.agentDisconnect).not.toBeNull();
  });
});

describe('closeAction', () => {
  it('reconnects after every close but "replaced"', () => {
    for (const code of [1000, 1001, 1006, 1008, 1012, 4001]) expect(closeAction(code)).toBe('reconnect');
    expect(closeAction(4000)).toBe('stop');
    expect(closeLabel(4001, 'heartbeat_timeout')).toBe('4001 heartbeat_timeout');
    expect(closeLabel(1006, '')).toBe('1006');
  });
});
