import Long from 'long';
import { describe, expect, it } from 'vitest';
import {
  decodeAgentToServer,
  decodeServerToAgent,
  decodeWsFrame,
  decodeWsServerFrame,
  encodeAgentToServer,
  encodeServerToAgent,
  encodeWsAgentFrame,
  encodeWsFrame,
} from './codec.js';
import { DecodeError, type DecodeErrorCode } from './decode-error.js';
import { resolveCodecLimits } from './limits.js';
import { TEST_UID, withWsHeader } from './testing.js';

const ULID = new TextEncoder().encode('01ARZ3NDEKTSV4RRFFQ69G5FAV');
const bytes = (...values: number[]) => Uint8Array.from(values);
const valid = encodeAgentToServer({ instanceUid: TEST_UID, sequenceNum: 7, capabilities: 0x2001, flags: 1 });

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw err;
  }
  throw new Error('expected a DecodeError');
}

describe('decodeAgentToServer', () => {
  it('decodes a valid message and normalises the uint64 fields to numbers', () => {
    const msg = decodeAgentToServer(valid);
    expect(msg.uid).toEqual({ bytes: TEST_UID, id: '01900000-0000-7000-8000-000000000001', legacy: false });
    expect([msg.sequenceNum, msg.capabilities, msg.flags]).toEqual([7, 0x2001, 1]);
    expect(msg.raw.agentDescription).toBeNull();
    expect(Long.isLong(msg.raw.sequenceNum)).toBe(true);
  });

  it('accepts a legacy ULID instance_uid', () => {
    const msg = decodeAgentToServer(encodeAgentToServer({ instanceUid: ULID }));
    expect(msg.uid).toMatchObject({ id: '01563e3a-b5d3-d676-4c61-efb99302bd5b', legacy: true });
  });

  it('skips unknown fields and known fields sent with the wrong wire type', () => {
    // field 4 (capabilities) as length-delimited, then unknown field 99 varint.
    const data = Uint8Array.from([...valid, 0x22, 0x01, 0x00, 0x98, 0x06, 0x01]);
    const msg = decodeAgentToServer(data);
    expect(msg.capabilities).toBe(0x2001);
  });

  it('clamps sequence_num at 2^53 and keeps the low 53 bits of bitmasks', () => {
    const msg = decodeAgentToServer(
      encodeAgentToServer({
        instanceUid: TEST_UID,
        sequenceNum: Long.fromString('18446744073709551615', true),
        capabilities: Long.fromString('1152921504606855169', true), // 2^60 | 0x2001
        flags: Long.fromNumber(2 ** 40 + 1, true),
      }),
    );
    expect(msg.sequenceNum).toBe(Number.MAX_SAFE_INTEGER);
    expect(msg.capabilities).toBe(0x2001);
    expect(msg.flags).toBe(2 ** 40 + 1);
  });

  const truncated = valid.subarray(0, valid.length - 1);
  it.each<[string, Uint8Array, DecodeErrorCode, Uint8Array | undefined]>([
    ['empty data', bytes(), 'empty', undefined],
    ['no instance_uid', encodeAgentToServer({ sequenceNum: 1 }), 'bad_instance_uid', undefined],
    [
      'a 10-byte instance_uid',
      encodeAgentToServer({ instanceUid: new Uint8Array(10) }),
      'bad_instance_uid',
      new Uint8Array(10),
    ],
    ['a truncated message', truncated, 'malformed', TEST_UID],
    ['a length running past the end', bytes(0x0a, 0x10, 0x01), 'malformed', undefined],
    ['field number 0', bytes(0x00, 0x01), 'malformed', undefined],
    ['wire type 7', Uint8Array.from([...valid, 0x0f]), 'malformed', TEST_UID],
    ['an unmatched end-group', Uint8Array.from([...valid, 0x0c]), 'malformed', TEST_UID],
    [
      'invalid UTF-8 in an attribute key',
      encodeAgentToServer({
        instanceUid: TEST_UID,
        agentDescription: { identifyingAttributes: [{ key: 'k', value: { stringValue: 'v' } }] },
      }).map((b) => (b === 0x6b ? 0xff : b)),
      'malformed',
      TEST_UID,
    ],
  ])('rejects %s as %s', (_name, data, code, uid) => {
    const error = decodeError(() => decodeAgentToServer(data));
    expect(error.code).toBe(code);
    expect(error.uid).toEqual(uid);
  });

  it('rejects data above maxMessageBytes before decoding', () => {
    const limits = resolveCodecLimits({ maxMessageBytes: valid.length - 1 });
    expect(decodeError(() => decodeAgentToServer(valid, limits)).code).toBe('too_large');
    expect(
      decodeAgentToServer(valid, resolveCodecLimits({ maxMessageBytes: valid.length })).sequenceNum,
    ).toBe(7);
  });

  it('keeps the protobufjs failure as the cause', () => {
    expect(decodeError(() => decodeAgentToServer(truncated)).cause).toBeInstanceOf(Error);
  });
});

describe('decodeWsFrame', () => {
  it.each([
    ['with the 0x00 header', withWsHeader(valid)],
    [
      'from encodeWsAgentFrame',
      encodeWsAgentFrame({ instanceUid: TEST_UID, sequenceNum: 7, capabilities: 0x2001, flags: 1 }),
    ],
    ['legacy, without header', valid],
  ])('decodes a frame %s', (_name, frame) => {
    expect(decodeWsFrame(frame).sequenceNum).toBe(7);
  });

  it.each<[string, Uint8Array, DecodeErrorCode]>([
    ['empty', bytes(), 'empty'],
    ['header only', bytes(0x00), 'empty'],
    ['non-zero header', Uint8Array.from([0x02, ...valid]), 'bad_header'],
    ['header then garbage', bytes(0x00, 0xff, 0xff), 'malformed'],
  ])('rejects a %s frame as %s', (_name, frame, code) => {
    expect(decodeError(() => decodeWsFrame(frame)).code).toBe(code);
  });

  it('counts the header in the size limit', () => {
    const limits = resolveCodecLimits({ maxMessageBytes: valid.length });
    expect(decodeError(() => decodeWsFrame(withWsHeader(valid), limits)).code).toBe('too_large');
  });
});

describe('ServerToAgent encoding', () => {
  const reply = { instanceUid: TEST_UID, capabilities: 0x25, flags: 1 };

  it('round-trips through encodeServerToAgent / decodeServerToAgent', () => {
    const decoded = decodeServerToAgent(encodeServerToAgent(reply));
    expect(new Uint8Array(decoded.instanceUid)).toEqual(TEST_UID);
    expect(Number(decoded.capabilities)).toBe(0x25);
  });

  it('prefixes WebSocket frames with the 0x00 header', () => {
    const frame = encodeWsFrame(reply);
    expect(frame[0]).toBe(0);
    expect(frame.subarray(1)).toEqual(encodeServerToAgent(reply));
    expect(Number(decodeWsServerFrame(frame).flags)).toBe(1);
  });

  it('rejects undecodable or oversized ServerToAgent data with DecodeError', () => {
    expect(decodeError(() => decodeServerToAgent(bytes(0x0a, 0x05))).code).toBe('malformed');
    expect(
      decodeError(() => decodeServerToAgent(bytes(0x0a, 0x00), resolveCodecLimits({ maxMessageBytes: 1 })))
        .code,
    ).toBe('too_large');
    expect(decodeError(() => decodeWsServerFrame(bytes(0x03, 0x00))).code).toBe('bad_header');
  });
});

describe('decoding with the id of the last message', () => {
  const frame = withWsHeader(valid);
  const id = decodeWsFrame(frame).uid.id;

  it('keeps that very id string when the uid bytes are its canonical form', () => {
    const known = `${id}`; // a distinct string instance with the same value
    const msg = decodeWsFrame(frame, undefined, known);
    expect(msg.uid.id).toBe(known);
    expect(msg.uid).toEqual(decodeWsFrame(frame).uid);
    expect(msg.uid.bytes).not.toBe(decodeWsFrame(frame).uid.bytes);
  });

  it('parses the uid as usual when it is another agent', () => {
    const other = '0190abcd-ef01-7000-8000-00000000002a';
    expect(decodeWsFrame(frame, undefined, other).uid).toEqual(decodeWsFrame(frame).uid);
  });
});
