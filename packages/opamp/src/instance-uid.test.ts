import { describe, expect, it } from 'vitest';
import { DecodeError } from './decode-error.js';
import {
  newInstanceUid,
  parseInstanceUid,
  uidBytesToId,
  uidBytesToUlid,
  uidIdToBytes,
  uidMatchesId,
} from './instance-uid.js';

const ascii = (text: string) => new TextEncoder().encode(text);
const hex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));

// The ULID specification's example and its 128-bit value (computed independently).
const ULID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const ULID_ID = '01563e3a-b5d3-d676-4c61-efb99302bd5b';

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw err;
  }
  throw new Error('expected a DecodeError');
}

describe('parseInstanceUid', () => {
  it('accepts 16 bytes and derives the canonical lowercase id', () => {
    const bytes = hex('0190ABCDEF0170008000000000000001'.toLowerCase());
    const uid = parseInstanceUid(bytes);
    expect(uid).toEqual({ bytes, id: '0190abcd-ef01-7000-8000-000000000001', legacy: false });
  });

  it.each([
    ['Uint8Array', new Uint8Array(16).fill(1)],
    ['Buffer (whose slice is a view)', Buffer.alloc(16, 1)],
    ['legacy ULID in a Buffer', Buffer.from(ULID)],
  ])('copies %s input, so the uid stays valid when the input buffer is reused', (_name, input) => {
    const before = Uint8Array.from(input);
    const uid = parseInstanceUid(input);
    input.fill(9);
    expect(uid.bytes).toEqual(before);
    expect(Buffer.isBuffer(uid.bytes)).toBe(false);
  });

  it.each([ULID, ULID.toLowerCase()])('accepts a legacy ULID string %s, echoing it as sent', (text) => {
    const uid = parseInstanceUid(ascii(text));
    expect(uid).toEqual({ bytes: ascii(text), id: ULID_ID, legacy: true });
  });

  it('maps a ULID and its 16 bytes to the same id (one agent, one id)', () => {
    expect(parseInstanceUid(ascii(ULID)).id).toBe(parseInstanceUid(uidIdToBytes(ULID_ID)).id);
  });

  it('accepts the largest ULID and rejects one above 128 bits', () => {
    expect(parseInstanceUid(ascii('7ZZZZZZZZZZZZZZZZZZZZZZZZZ')).id).toBe(
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
    );
    expect(decodeError(() => parseInstanceUid(ascii('8ZZZZZZZZZZZZZZZZZZZZZZZZZ'))).code).toBe(
      'bad_instance_uid',
    );
  });

  it.each([
    ['empty', new Uint8Array(0), undefined],
    ['15 bytes', new Uint8Array(15), new Uint8Array(15)],
    ['17 bytes', new Uint8Array(17), new Uint8Array(17)],
    [
      '26 bytes, not base32 (I, L, O, U are excluded)',
      ascii('01ARZ3NDEKTSV4RRFFQ69G5FAU'),
      ascii('01ARZ3NDEKTSV4RRFFQ69G5FAU'),
    ],
    ['26 bytes, non-ASCII', new Uint8Array(26).fill(0xc3), new Uint8Array(26).fill(0xc3)],
    ['65 bytes (too long to echo)', new Uint8Array(65), undefined],
  ])('rejects %s with bad_instance_uid', (_name, bytes, echoed) => {
    const error = decodeError(() => parseInstanceUid(bytes));
    expect(error.code).toBe('bad_instance_uid');
    expect(error.name).toBe('DecodeError');
    expect(error.uid).toEqual(echoed);
  });
});

describe('uid helpers', () => {
  it('newInstanceUid returns 16 bytes of a UUIDv7 (version 7, RFC variant), unique each call', () => {
    const a = newInstanceUid();
    const b = newInstanceUid();
    expect(a).toHaveLength(16);
    expect(a[6]! >> 4).toBe(7);
    expect(a[8]! >> 6).toBe(0b10);
    expect(uidBytesToId(a)).not.toBe(uidBytesToId(b));
  });

  it('uidBytesToId / uidIdToBytes round-trip and accept any 16 bytes', () => {
    const bytes = hex('00112233445566778899aabbccddeeff');
    expect(uidBytesToId(bytes)).toBe('00112233-4455-6677-8899-aabbccddeeff');
    expect(uidIdToBytes('00112233-4455-6677-8899-AABBCCDDEEFF')).toEqual(bytes);
    expect(uidBytesToId(bytes.subarray(0, 16))).toBe('00112233-4455-6677-8899-aabbccddeeff');
  });

  it('uidBytesToId reads a view at an offset correctly', () => {
    const buffer = new Uint8Array(20);
    buffer.set(hex('00112233445566778899aabbccddeeff'), 4);
    expect(uidBytesToId(buffer.subarray(4))).toBe('00112233-4455-6677-8899-aabbccddeeff');
  });

  it('helpers reject wrong sizes and non-canonical strings with RangeError', () => {
    expect(() => uidBytesToId(new Uint8Array(15))).toThrow(RangeError);
    expect(() => uidBytesToUlid(new Uint8Array(26))).toThrow(RangeError);
    expect(() => uidIdToBytes('00112233445566778899aabbccddeeff')).toThrow(RangeError);
    expect(() => uidIdToBytes('0011223-34455-6677-8899-aabbccddeeff')).toThrow(RangeError);
  });

  it('uidBytesToUlid is the inverse of the ULID parse', () => {
    expect(new TextDecoder().decode(uidBytesToUlid(uidIdToBytes(ULID_ID)))).toBe(ULID);
    const fresh = newInstanceUid();
    expect(parseInstanceUid(uidBytesToUlid(fresh)).id).toBe(uidBytesToId(fresh));
  });
});

const MATCH_ID = '0190abcd-ef01-7000-8000-00000000002a';

describe('uidMatchesId', () => {
  it('matches the canonical form of the bytes only', () => {
    const bytes = uidIdToBytes(MATCH_ID);
    expect(uidMatchesId(bytes, MATCH_ID)).toBe(true);
    expect(uidMatchesId(bytes, MATCH_ID.toUpperCase())).toBe(false);
    expect(uidMatchesId(bytes, MATCH_ID.replace('2a', '2b'))).toBe(false);
    expect(uidMatchesId(bytes, MATCH_ID.replaceAll('-', ''))).toBe(false);
    expect(uidMatchesId(bytes.subarray(1), MATCH_ID)).toBe(false);
    for (let i = 0; i < 50; i++) {
      const random = crypto.getRandomValues(new Uint8Array(16));
      expect(uidMatchesId(random, uidBytesToId(random))).toBe(true);
      expect(uidMatchesId(random, MATCH_ID)).toBe(uidBytesToId(random) === MATCH_ID);
    }
  });
});
