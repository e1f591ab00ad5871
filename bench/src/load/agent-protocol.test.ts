import {
  AgentCapabilities,
  decodeWsFrame,
  encodeWsFrame,
  ServerErrorResponseType,
  uidBytesToId,
} from '@opamp-fleet/opamp';
import { describe, expect, it } from 'vitest';
import { createAgentProtocol, SIMULATED_CAPABILITIES } from './agent-protocol.js';

describe('createAgentProtocol', () => {
  it('sends a full first message, then heartbeats with consecutive sequence numbers', () => {
    const agents = createAgentProtocol('opamp');
    const first = decodeWsFrame(agents.firstFrame(7));
    expect(first.sequenceNum).toBe(0);
    expect(first.capabilities).toBe(SIMULATED_CAPABILITIES);
    expect(first.capabilities & AgentCapabilities.AcceptsOpAMPConnectionSettings).not.toBe(0);
    expect(first.raw.health?.healthy).toBe(true);
    const identifying = first.raw.agentDescription?.identifyingAttributes ?? [];
    expect(identifying.find((a) => a.key === 'service.instance.id')?.value?.stringValue).toBe(first.uid.id);
    const hostName = first.raw.agentDescription?.nonIdentifyingAttributes?.find((a) => a.key === 'host.name');
    expect(hostName?.value?.stringValue).toBe('bench-host-7');

    const beat1 = decodeWsFrame(agents.heartbeatFrame(7));
    const beat2 = decodeWsFrame(agents.heartbeatFrame(7));
    expect([beat1.sequenceNum, beat2.sequenceNum]).toEqual([1, 2]);
    expect(beat1.uid.id).toBe(first.uid.id);
    expect(beat1.raw.agentDescription).toBeNull();
    expect(beat1.raw.health).toBeNull();
  });

  it('gives every agent its own UUIDv7 instance uid', () => {
    const agents = createAgentProtocol('opamp');
    const a = decodeWsFrame(agents.firstFrame(0)).uid.id;
    const b = decodeWsFrame(agents.firstFrame(1)).uid.id;
    expect(a).not.toBe(b);
    expect(a[14]).toBe('7');
  });

  it('accepts a ServerToAgent for the agent and rejects others', () => {
    const agents = createAgentProtocol('opamp');
    const uid = decodeWsFrame(agents.firstFrame(0)).uid.bytes;
    decodeWsFrame(agents.firstFrame(1));
    expect(agents.isValidReply(0, encodeWsFrame({ instanceUid: uid }))).toBe(true);
    expect(agents.isValidReply(1, encodeWsFrame({ instanceUid: uid }))).toBe(false);
    const error = encodeWsFrame({
      instanceUid: uid,
      errorResponse: { type: ServerErrorResponseType.BadRequest, errorMessage: 'no' },
    });
    expect(agents.isValidReply(0, error)).toBe(false);
    expect(agents.isValidReply(0, Uint8Array.of(0, 0xff, 0xff))).toBe(false);
    expect(uidBytesToId(uid)).toHaveLength(36);
  });

  it('accepts a repeat of the last valid reply without decoding it, and still checks others', () => {
    const agents = createAgentProtocol('opamp');
    const uid = decodeWsFrame(agents.firstFrame(0)).uid.bytes;
    const ack = encodeWsFrame({ instanceUid: uid, capabilities: 1 });
    expect(agents.isValidReply(0, ack)).toBe(true);
    expect(agents.isValidReply(0, encodeWsFrame({ instanceUid: uid, capabilities: 1 }))).toBe(true);
    ack.fill(0xff); // the protocol compares with its own copy, not with this buffer
    expect(agents.isValidReply(0, ack)).toBe(false);
    const other = encodeWsFrame({ instanceUid: new Uint8Array(16), capabilities: 1 });
    expect(agents.isValidReply(0, other)).toBe(false);
    expect(agents.isValidReply(0, Uint8Array.of(0, 0xff, 0xff))).toBe(false);
  });

  it('accepts any non-empty frame from an echo server', () => {
    const agents = createAgentProtocol('echo');
    const frame = agents.firstFrame(0);
    expect(agents.isValidReply(0, frame)).toBe(true);
    expect(agents.isValidReply(0, new Uint8Array())).toBe(false);
  });

  it('refuses a heartbeat before the first message', () => {
    expect(() => createAgentProtocol('opamp').heartbeatFrame(3)).toThrow(/has not sent its first message/);
  });
});
