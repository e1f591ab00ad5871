import protobuf from 'protobufjs/minimal.js';

const INSTANCE_UID_FIELD = 1;
const LENGTH_DELIMITED = 2;
/** Longest instance_uid copied for echo; anything longer is not a plausible id. */
const MAX_ECHO_UID_BYTES = 64;

/**
 * Best-effort read of AgentToServer.instance_uid from bytes that failed to decode, so an error reply
 * can still echo it. Scans top-level fields only (skipping others without decoding them) and keeps
 * the last occurrence, as protobuf does. Never throws; returns a copy, or undefined.
 */
export function peekInstanceUid(data: Uint8Array): Uint8Array | undefined {
  let found: Uint8Array | undefined;
  try {
    const reader = protobuf.Reader.create(data);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === INSTANCE_UID_FIELD && wireType === LENGTH_DELIMITED) {
        const bytes = reader.bytes();
        found = bytes.length > 0 && bytes.length <= MAX_ECHO_UID_BYTES ? new Uint8Array(bytes) : undefined;
      } else {
        reader.skipType(wireType);
      }
    }
  } catch {
    // Malformed from here on: keep what was found before the damage.
  }
  return found;
}
