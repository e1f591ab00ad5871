import { DecodeError } from './decode-error.js';
import type { CodecLimits } from './limits.js';

/** Longest base-128 varint encoding of a uint64. */
const MAX_VARINT_BYTES = 10;
/** Leading varint values below this would be protobuf tags with field number 0, which is invalid. */
const FIRST_VALID_TAG = 8n;

/**
 * Returns the protobuf data of an OpAMP WebSocket message (a view into `frame`, not a copy).
 *
 * A message is a uvarint header followed by the data; the header must be 0. Agents older than spec
 * v0.7 send no header. Both forms are told apart by the leading varint of the frame:
 * - `0x00` (the usual header) or a longer encoding of 0 (`0x80 0x00`, ...): header, data follows.
 *   As a protobuf tag it would mean field 0, which is invalid, so this cannot be a legacy message.
 * - a value 1-7: also an invalid protobuf tag (field 0), so it is a non-zero header: `bad_header`.
 * - anything else (a valid tag, or not a varint): a legacy header-less message, returned whole. A
 *   non-zero header of 8 or more is indistinguishable from a legacy message; its data then fails
 *   to decode as protobuf (`malformed`).
 *
 * Throws DecodeError: `empty` (no bytes, or a header with no data), `too_large` (frame above
 * `maxMessageBytes`, header included) or `bad_header`.
 */
export function wsFrameData(frame: Uint8Array, limits: CodecLimits): Uint8Array {
  if (frame.length === 0) throw new DecodeError('empty', 'empty WebSocket message');
  if (frame.length > limits.maxMessageBytes) {
    throw new DecodeError(
      'too_large',
      `WebSocket message of ${frame.length} bytes exceeds ${limits.maxMessageBytes}`,
    );
  }
  const headerLength = frame[0] === 0 ? 1 : zeroHeaderLength(frame);
  if (headerLength === 0) return frame;
  const data = frame.subarray(headerLength);
  if (data.length === 0) throw new DecodeError('empty', 'WebSocket message has a header but no data');
  return data;
}

/**
 * For a frame not starting with 0x00: the length of a multi-byte zero header, 0 for a legacy
 * header-less message; throws `bad_header` for a leading varint that can only be a non-zero header.
 */
function zeroHeaderLength(frame: Uint8Array): number {
  const varint = readUvarint(frame);
  if (varint === undefined || varint.value >= FIRST_VALID_TAG) return 0;
  if (varint.value !== 0n) {
    throw new DecodeError('bad_header', `WebSocket message header is ${varint.value}, expected 0`);
  }
  return varint.length;
}

function readUvarint(bytes: Uint8Array): { value: bigint; length: number } | undefined {
  let value = 0n;
  const end = Math.min(bytes.length, MAX_VARINT_BYTES);
  for (let i = 0; i < end; i++) {
    const byte = bytes[i] as number;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return { value, length: i + 1 };
  }
  return undefined;
}
