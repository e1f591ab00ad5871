import { describe, expect, it } from 'vitest';
import { encodeAckBody, encodeWsAckFrame } from './ack-frame.js';
import { encodeServerToAgent, encodeWsFrame } from './codec.js';
import { ServerCapabilities } from './constants.js';
import { uidBytesToUlid } from './instance-uid.js';
import { ackReply, SERVER_CAPABILITIES } from './replies.js';

/** Bytes as a plain array: protobufjs returns Buffers, the templates Uint8Arrays. */
const b = (bytes: Uint8Array) => [...bytes];

const CAPS = [SERVER_CAPABILITIES, 0, ServerCapabilities.AcceptsStatus, 0x1fff];

describe('ack encodings from a template', () => {
  it.each(CAPS)('match the protobufjs encoding byte for byte (capabilities %i)', (caps) => {
    for (let i = 0; i < 50; i++) {
      const uid = crypto.getRandomValues(new Uint8Array(16));
      if (i === 0) uid.fill(0xa0); // bytes like the template's placeholder
      expect(b(encodeWsAckFrame(uid, caps))).toEqual(b(encodeWsFrame(ackReply(uid, caps))));
      expect(b(encodeAckBody(uid, caps))).toEqual(b(encodeServerToAgent(ackReply(uid, caps))));
    }
  });

  it('return a fresh buffer every time', () => {
    const uid = crypto.getRandomValues(new Uint8Array(16));
    const first = encodeWsAckFrame(uid, SERVER_CAPABILITIES);
    const second = encodeWsAckFrame(uid, SERVER_CAPABILITIES);
    expect(second).not.toBe(first);
    first.fill(0);
    const expected = encodeWsFrame(ackReply(uid, SERVER_CAPABILITIES));
    expect(b(second)).toEqual(b(expected));
    expect(b(encodeWsAckFrame(uid, SERVER_CAPABILITIES))).toEqual(b(expected));
  });

  it('encode a legacy 26-byte ULID uid as protobufjs does', () => {
    const ulid = uidBytesToUlid(crypto.getRandomValues(new Uint8Array(16)));
    expect(b(encodeWsAckFrame(ulid, SERVER_CAPABILITIES))).toEqual(
      b(encodeWsFrame(ackReply(ulid, SERVER_CAPABILITIES))),
    );
    expect(b(encodeAckBody(ulid, SERVER_CAPABILITIES))).toEqual(
      b(encodeServerToAgent(ackReply(ulid, SERVER_CAPABILITIES))),
    );
  });
});
