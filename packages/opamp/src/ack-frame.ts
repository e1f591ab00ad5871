import { encodeServerToAgent, encodeWsFrame } from './codec.js';
import { ackReply } from './replies.js';

const UID_BYTES = 16;

interface Template {
  readonly bytes: Uint8Array;
  /** Where the 16 instance_uid bytes start. */
  readonly uidAt: number;
}

/** A 16-byte uid that cannot collide with any other part of an ack's encoding (see `template`). */
const PLACEHOLDER = Uint8Array.from({ length: UID_BYTES }, (_, i) => 0xa0 + i);

const wsTemplates = new Map<number, Template>();
const bodyTemplates = new Map<number, Template>();

/**
 * The encoding of `ackReply(PLACEHOLDER, serverCaps)` by protobufjs and where its uid bytes sit: an
 * ack differs from it only there, so every later ack is a copy with the agent's uid written in.
 */
function template(cache: Map<number, Template>, serverCaps: number, ws: boolean): Template {
  let t = cache.get(serverCaps);
  if (t === undefined) {
    const reply = ackReply(PLACEHOLDER, serverCaps);
    const bytes = ws ? encodeWsFrame(reply) : encodeServerToAgent(reply);
    const uidAt = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(PLACEHOLDER);
    if (uidAt < 0) throw new Error('ack template lacks its instance_uid');
    t = { bytes: new Uint8Array(bytes), uidAt };
    cache.set(serverCaps, t);
  }
  return t;
}

function fill(t: Template, uid: Uint8Array): Uint8Array {
  const out = new Uint8Array(t.bytes);
  out.set(uid, t.uidAt);
  return out;
}

/**
 * `encodeWsFrame(ackReply(uid, serverCaps))`, byte for byte: the reply to most messages (every
 * heartbeat), made from a per-capabilities template instead of a protobuf encoding each time.
 */
export function encodeWsAckFrame(uid: Uint8Array, serverCaps: number): Uint8Array {
  if (uid.length !== UID_BYTES) return encodeWsFrame(ackReply(uid, serverCaps));
  return fill(template(wsTemplates, serverCaps, true), uid);
}

/** `encodeServerToAgent(ackReply(uid, serverCaps))` (a plain-HTTP body), as `encodeWsAckFrame`. */
export function encodeAckBody(uid: Uint8Array, serverCaps: number): Uint8Array {
  if (uid.length !== UID_BYTES) return encodeServerToAgent(ackReply(uid, serverCaps));
  return fill(template(bodyTemplates, serverCaps, false), uid);
}
