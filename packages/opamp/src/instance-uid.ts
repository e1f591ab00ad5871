import { v7 } from 'uuid';
import { DecodeError } from './decode-error.js';

/**
 * An agent's instance_uid as received.
 * - `bytes`: exactly what the agent sent (16 bytes, or the 26 ASCII bytes of a legacy ULID), to echo
 *   in ServerToAgent.instance_uid. A copy that never shares memory with the input buffer.
 * - `id`: canonical lowercase `8-4-4-4-12` hex string of the 16-byte identity, the key of per-agent
 *   state. A legacy ULID maps to its 16 bytes, so an agent has one id whichever form it sends.
 * - `legacy`: true for the ULID string form (OpAMP spec up to v0.9).
 */
export interface InstanceUid {
  readonly bytes: Uint8Array;
  readonly id: string;
  readonly legacy: boolean;
}

const UID_BYTES = 16;
const ULID_CHARS = 26;
/** Longest malformed uid copied into a DecodeError for echo; longer ones are not plausible ids. */
const MAX_ECHO_UID_BYTES = 64;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CANONICAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** ASCII code -> Crockford base32 value (case-insensitive), or -1. */
const CROCKFORD_VALUES = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < CROCKFORD.length; i++) {
    table[CROCKFORD.charCodeAt(i)] = i;
    table[CROCKFORD.toLowerCase().charCodeAt(i)] = i;
  }
  return table;
})();

/**
 * Validates instance_uid bytes and derives the canonical id.
 * Throws DecodeError `bad_instance_uid` (with `uid` set when there were 1-64 bytes to echo).
 * `knownId`: an id the caller expects (its connection's agent); when the 16 bytes are its canonical
 * form, the result's `id` is that very string, with no hex conversion.
 */
export function parseInstanceUid(bytes: Uint8Array, knownId?: string): InstanceUid {
  if (bytes.length === UID_BYTES) {
    const copy = new Uint8Array(bytes); // a copy (Buffer#slice would be a view)
    const id = knownId !== undefined && uidMatchesId(copy, knownId) ? knownId : uidBytesToId(copy);
    return { bytes: copy, id, legacy: false };
  }
  if (bytes.length === ULID_CHARS) {
    const decoded = ulidToBytes(bytes);
    if (decoded) return { bytes: new Uint8Array(bytes), id: uidBytesToId(decoded), legacy: true };
  }
  const uid = bytes.length > 0 && bytes.length <= MAX_ECHO_UID_BYTES ? new Uint8Array(bytes) : undefined;
  throw new DecodeError(
    'bad_instance_uid',
    `instance_uid must be 16 bytes or a 26-character ULID, got ${bytes.length} bytes`,
    uid ? { uid } : {},
  );
}

/** A fresh 16-byte UUIDv7 (time-ordered, as the OpAMP spec recommends). */
export function newInstanceUid(): Uint8Array {
  return v7(undefined, new Uint8Array(UID_BYTES));
}

/**
 * 16 bytes -> canonical lowercase `8-4-4-4-12` string. Unlike uuid's `stringify`, any 16 bytes are
 * accepted (agents and ULID-derived ids need not carry UUID version bits). Throws RangeError otherwise.
 */
export function uidBytesToId(bytes: Uint8Array): string {
  if (bytes.length !== UID_BYTES) throw new RangeError(`instance uid must be 16 bytes, got ${bytes.length}`);
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, UID_BYTES).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Canonical `8-4-4-4-12` string (any case) -> 16 bytes. Throws RangeError on any other input. */
export function uidIdToBytes(id: string): Uint8Array {
  if (!CANONICAL_ID.test(id)) throw new RangeError(`not a canonical instance uid: ${JSON.stringify(id)}`);
  return Uint8Array.from(Buffer.from(id.replaceAll('-', ''), 'hex'));
}

/** 16 bytes -> the 26 ASCII bytes of their Crockford base32 ULID form (for legacy agents). */
export function uidBytesToUlid(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== UID_BYTES) throw new RangeError(`instance uid must be 16 bytes, got ${bytes.length}`);
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  const out = new Uint8Array(ULID_CHARS);
  for (let i = ULID_CHARS - 1; i >= 0; i--) {
    out[i] = CROCKFORD.charCodeAt(Number(value & 31n));
    value >>= 5n;
  }
  return out;
}

/** 26 ASCII bytes of a ULID -> its 16 bytes, or undefined when not a valid ULID. */
function ulidToBytes(chars: Uint8Array): Uint8Array | undefined {
  let value = 0n;
  for (const code of chars) {
    const digit = code < 128 ? (CROCKFORD_VALUES[code] ?? -1) : -1;
    if (digit < 0) return undefined;
    value = (value << 5n) | BigInt(digit);
  }
  // 26 characters carry 130 bits; a ULID is 128, so the first character must be 0-7.
  if (value >> 128n !== 0n) return undefined;
  const out = new Uint8Array(UID_BYTES);
  for (let i = UID_BYTES - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

/** True when `id` is the canonical `8-4-4-4-12` hex form (lower case) of the 16 `bytes`. */
export function uidMatchesId(bytes: Uint8Array, id: string): boolean {
  if (bytes.length !== 16 || id.length !== 36) return false;
  let c = 0;
  for (let i = 0; i < 16; i++) {
    if (c === 8 || c === 13 || c === 18 || c === 23) {
      if (id.charCodeAt(c) !== 0x2d) return false;
      c += 1;
    }
    if (hexValue(id.charCodeAt(c)) * 16 + hexValue(id.charCodeAt(c + 1)) !== bytes[i]) return false;
    c += 2;
  }
  return true;
}

/** Value of a lower-case hex digit's char code; -256 for anything else (so no byte matches). */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -256;
}
