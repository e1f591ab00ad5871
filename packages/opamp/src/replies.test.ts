import { createHash } from 'node:crypto';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import {
  decodeAgentToServer,
  decodeServerToAgent,
  encodeAgentToServer,
  encodeServerToAgent,
} from './codec.js';
import { AgentCapabilities, ServerCapabilities, ServerToAgentFlags } from './constants.js';
import { decideDuplicate } from './duplicate.js';
import { parseInstanceUid, uidBytesToId } from './instance-uid.js';
import { pb } from './proto.js';
import {
  ackReply,
  badRequestReply,
  opampSettingsOffer,
  REPLACED_CLOSE_REASON,
  SERVER_CAPABILITIES,
  unavailableReply,
  withNewInstanceUid,
  withOpampSettings,
} from './replies.js';
import { TEST_UID } from './testing.js';

const uid = parseInstanceUid(TEST_UID);
const roundTrip = (reply: Parameters<typeof encodeServerToAgent>[0]) =>
  decodeServerToAgent(encodeServerToAgent(reply));
const setFields = (reply: Parameters<typeof encodeServerToAgent>[0]) =>
  Object.keys(pb.ServerToAgent.toObject(roundTrip(reply)));

describe('SERVER_CAPABILITIES', () => {
  it('is AcceptsStatus | AcceptsEffectiveConfig | OffersConnectionSettings', () => {
    expect(SERVER_CAPABILITIES).toBe(
      ServerCapabilities.AcceptsStatus |
        ServerCapabilities.AcceptsEffectiveConfig |
        ServerCapabilities.OffersConnectionSettings,
    );
    expect(SERVER_CAPABILITIES).toBe(0x25);
  });
});

describe('ackReply', () => {
  it('echoes the uid bytes as received and sets capabilities', () => {
    const decoded = roundTrip(ackReply(uid));
    expect(new Uint8Array(decoded.instanceUid)).toEqual(TEST_UID);
    expect(Number(decoded.capabilities)).toBe(SERVER_CAPABILITIES);
    expect(setFields(ackReply(uid))).toEqual(['instanceUid', 'capabilities']);
  });

  it('echoes a legacy ULID uid unchanged and carries flags', () => {
    const legacy = parseInstanceUid(new TextEncoder().encode('01ARZ3NDEKTSV4RRFFQ69G5FAV'));
    const reply = ackReply(legacy, 0x1, ServerToAgentFlags.ReportFullState);
    expect(reply).toEqual({ instanceUid: legacy.bytes, capabilities: 1, flags: 1 });
    expect(ackReply(TEST_UID).instanceUid).toBe(TEST_UID);
  });
});

describe('error replies', () => {
  it('badRequestReply sets only error_response (BadRequest) and instance_uid', () => {
    const reply = badRequestReply(TEST_UID, 'instance_uid must be 16 bytes');
    expect(setFields(reply)).toEqual(['instanceUid', 'errorResponse']);
    expect(roundTrip(reply).errorResponse).toMatchObject({
      type: 1,
      errorMessage: 'instance_uid must be 16 bytes',
    });
    expect(setFields(badRequestReply(undefined, 'empty'))).toEqual(['errorResponse']);
  });

  it('unavailableReply carries retry_info in exact nanoseconds', () => {
    const reply = unavailableReply(uid, 30_000);
    expect(setFields(reply)).toEqual(['instanceUid', 'errorResponse']);
    const error = roundTrip(reply).errorResponse!;
    expect(error.type).toBe(2);
    expect(error.Details).toBe('retryInfo');
    expect(String(error.retryInfo?.retryAfterNanoseconds)).toBe('30000000000');
    const long = roundTrip(unavailableReply(uid, 86_400_000 * 365, 'maintenance')).errorResponse!;
    expect(String(long.retryInfo?.retryAfterNanoseconds)).toBe('31536000000000000'); // above 2^53, exact
    const capped = roundTrip(unavailableReply(uid, 1e300)).errorResponse!;
    expect(String(capped.retryInfo?.retryAfterNanoseconds)).toBe('18446744073709000000');
    expect(long.errorMessage).toBe('maintenance');
    expect(
      String(roundTrip(unavailableReply(uid, 0.2)).errorResponse?.retryInfo?.retryAfterNanoseconds),
    ).toBe('1000000');
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('unavailableReply rejects %s', (ms) => {
    expect(() => unavailableReply(uid, ms)).toThrow(RangeError);
  });
});

describe('withNewInstanceUid', () => {
  const fresh = Uint8Array.from({ length: 16 }, (_, i) => i);

  it('adds agent_identification.new_instance_uid to a reply', () => {
    const decoded = roundTrip(withNewInstanceUid(ackReply(uid), fresh));
    expect(new Uint8Array(decoded.agentIdentification?.newInstanceUid ?? [])).toEqual(fresh);
    expect(new Uint8Array(decoded.instanceUid)).toEqual(TEST_UID);
  });

  it('sends the ULID string form to legacy agents, mapping to the same id', () => {
    const reply = withNewInstanceUid(ackReply(uid), fresh, { legacy: true });
    const sent = reply.agentIdentification!.newInstanceUid!;
    expect(new TextDecoder().decode(sent)).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(parseInstanceUid(sent).id).toBe(uidBytesToId(fresh));
  });

  it('rejects anything but 16 bytes', () => {
    expect(() => withNewInstanceUid(ackReply(uid), new Uint8Array(26))).toThrow(RangeError);
  });
});

describe('OpAMP connection settings', () => {
  const accepts = AgentCapabilities.ReportsStatus | AgentCapabilities.AcceptsOpAMPConnectionSettings;

  it('are offered only to agents with AcceptsOpAMPConnectionSettings', () => {
    const reply = ackReply(uid);
    expect(
      withOpampSettings(reply, AgentCapabilities.ReportsStatus | AgentCapabilities.ReportsHeartbeat, {
        heartbeatIntervalSeconds: 30,
      }),
    ).toBe(reply);
    const offered = roundTrip(withOpampSettings(reply, accepts, { heartbeatIntervalSeconds: 30 }));
    expect(Number(offered.connectionSettings?.opamp?.heartbeatIntervalSeconds)).toBe(30);
    expect(offered.connectionSettings?.opamp?.destinationEndpoint).toBe('');
  });

  it('always carry the interval; 0 (which disables heartbeats) is the proto3 default, so opamp is sent empty', () => {
    const offer = opampSettingsOffer({ heartbeatIntervalSeconds: 0 });
    expect(offer.opamp).toEqual({ heartbeatIntervalSeconds: 0 });
    const decoded = pb.ConnectionSettingsOffers.decode(pb.ConnectionSettingsOffers.encode(offer).finish());
    expect(decoded.opamp).not.toBeNull();
    expect(Number(decoded.opamp?.heartbeatIntervalSeconds)).toBe(0);
  });

  it('carry a hash that identifies the settings', () => {
    const a = opampSettingsOffer({ heartbeatIntervalSeconds: 30 });
    const b = opampSettingsOffer({
      heartbeatIntervalSeconds: 30,
      destinationEndpoint: 'wss://opamp.example/v1/opamp',
    });
    const expected = createHash('sha256')
      .update(pb.ConnectionSettingsOffers.encode({ opamp: { heartbeatIntervalSeconds: 30 } }).finish())
      .digest();
    expect(new Uint8Array(a.hash!)).toEqual(new Uint8Array(expected));
    expect(Buffer.compare(a.hash!, b.hash!)).not.toBe(0);
    expect(b.opamp?.destinationEndpoint).toBe('wss://opamp.example/v1/opamp');
  });

  it.each([-1, 1.5, Number.NaN])('reject heartbeatIntervalSeconds %s', (seconds) => {
    expect(() => opampSettingsOffer({ heartbeatIntervalSeconds: seconds })).toThrow(RangeError);
  });

  it('accept Long for exactness on the decode side', () => {
    const decoded = decodeAgentToServer(
      encodeAgentToServer({ instanceUid: TEST_UID, sequenceNum: Long.UZERO }),
    );
    expect(decoded.sequenceNum).toBe(0);
  });
});

describe('decideDuplicate', () => {
  it.each([
    [{ existingOwnerLive: false, recentTakeovers: 0 }, 'accept'],
    [{ existingOwnerLive: false, recentTakeovers: 3 }, 'accept'],
    [{ existingOwnerLive: true, recentTakeovers: 0 }, 'takeover'],
    [{ existingOwnerLive: true, recentTakeovers: 1 }, 'assign_new_uid'],
    [{ existingOwnerLive: true, recentTakeovers: 5 }, 'assign_new_uid'],
  ] as const)('%o -> %s', (situation, decision) => {
    expect(decideDuplicate(situation)).toBe(decision);
  });

  it('names the close reason of a replaced connection', () => {
    expect(REPLACED_CLOSE_REASON).toBe('replaced');
  });
});
