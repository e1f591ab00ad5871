import protobuf from 'protobufjs/minimal.js';
import { findTooDeepAttributes } from './attribute-depth.js';
import { DecodeError } from './decode-error.js';
import { type InstanceUid, parseInstanceUid } from './instance-uid.js';
import { type CodecLimits, DEFAULT_CODEC_LIMITS } from './limits.js';
import { peekInstanceUid } from './peek-uid.js';
import {
  type AgentToServer,
  type AgentToServerInit,
  pb,
  type ServerToAgent,
  type ServerToAgentInit,
} from './proto.js';
import { uint64ToBitmask, uint64ToCounter } from './uint64.js';
import { wsFrameData } from './ws-frame.js';

/**
 * A decoded, validated AgentToServer.
 * - `raw`: the decoded message. Absent sub-messages are null; uint64 fields are Long; bytes fields
 *   may share memory with the decoded input, so the caller must own that buffer while using `raw`.
 * - `uid`: the validated instance_uid (its `bytes` are a copy, safe to keep).
 * - `sequenceNum`: clamped to Number.MAX_SAFE_INTEGER; `capabilities`/`flags`: low 53 bits.
 */
export interface AgentMessage {
  readonly raw: AgentToServer;
  readonly uid: InstanceUid;
  readonly sequenceNum: number;
  readonly capabilities: number;
  readonly flags: number;
}

/**
 * Decodes protobuf AgentToServer bytes. Pure; throws only DecodeError:
 * `empty`, `too_large` (checked before decoding), `malformed`, `too_deep` (AnyValue deeper than
 * `maxAnyValueDepth` in agent_description / health / available_components attributes, or any
 * nesting beyond protobufjs' recursion limit), `bad_instance_uid`.
 * `knownId`: the id the sender's last message had, see `parseInstanceUid` (the common case of a
 * connection: no hex conversion).
 */
export function decodeAgentToServer(
  data: Uint8Array,
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
  knownId?: string,
): AgentMessage {
  if (data.length === 0) throw new DecodeError('empty', 'empty AgentToServer message');
  if (data.length > limits.maxMessageBytes) {
    throw new DecodeError(
      'too_large',
      `AgentToServer of ${data.length} bytes exceeds ${limits.maxMessageBytes}`,
    );
  }
  const raw = decodeOrThrow(() => pb.AgentToServer.decode(data), 'AgentToServer', data);
  const uid = parseInstanceUid(raw.instanceUid, knownId);
  const where = findTooDeepAttributes(raw, limits.maxAnyValueDepth);
  if (where !== undefined) {
    throw new DecodeError('too_deep', `AnyValue in ${where} nested deeper than ${limits.maxAnyValueDepth}`, {
      uid: uid.bytes,
    });
  }
  return {
    raw,
    uid,
    sequenceNum: uint64ToCounter(raw.sequenceNum),
    capabilities: uint64ToBitmask(raw.capabilities),
    flags: uint64ToBitmask(raw.flags),
  };
}

/** Decodes an agent's WebSocket message (varint header + AgentToServer; legacy header-less too). */
export function decodeWsFrame(
  frame: Uint8Array,
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
  knownId?: string,
): AgentMessage {
  return decodeAgentToServer(wsFrameData(frame, limits), limits, knownId);
}

/** Encodes a ServerToAgent as protobuf bytes (plain HTTP body). */
export function encodeServerToAgent(msg: ServerToAgentInit): Uint8Array {
  return pb.ServerToAgent.encode(msg).finish();
}

/** Encodes a ServerToAgent as a WebSocket message: header 0x00 followed by the protobuf bytes. */
export function encodeWsFrame(msg: ServerToAgentInit): Uint8Array {
  return pb.ServerToAgent.encode(msg, protobuf.Writer.create().uint32(0)).finish();
}

/** Encodes an AgentToServer (simulated agents, benchmarks). */
export function encodeAgentToServer(msg: AgentToServerInit): Uint8Array {
  return pb.AgentToServer.encode(msg).finish();
}

/** Encodes an AgentToServer as a WebSocket message: header 0x00 followed by the protobuf bytes. */
export function encodeWsAgentFrame(msg: AgentToServerInit): Uint8Array {
  return pb.AgentToServer.encode(msg, protobuf.Writer.create().uint32(0)).finish();
}

/** Decodes ServerToAgent bytes (simulated agents). Throws only DecodeError. */
export function decodeServerToAgent(
  data: Uint8Array,
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): ServerToAgent {
  if (data.length > limits.maxMessageBytes) {
    throw new DecodeError(
      'too_large',
      `ServerToAgent of ${data.length} bytes exceeds ${limits.maxMessageBytes}`,
    );
  }
  return decodeOrThrow(() => pb.ServerToAgent.decode(data), 'ServerToAgent');
}

/** Decodes a server's WebSocket message (simulated agents). Throws only DecodeError. */
export function decodeWsServerFrame(
  frame: Uint8Array,
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): ServerToAgent {
  return decodeServerToAgent(wsFrameData(frame, limits), limits);
}

/**
 * Runs a protobufjs decode and maps its failures to DecodeError. protobufjs signals nesting beyond
 * `Reader.recursionLimit` with Error('max depth exceeded'); a stack overflow (RangeError) would be
 * the same problem and is mapped likewise; anything else is malformed input.
 */
function decodeOrThrow<T>(decode: () => T, what: string, data?: Uint8Array): T {
  try {
    return decode();
  } catch (err) {
    const uid = data ? peekInstanceUid(data) : undefined;
    const message = err instanceof Error ? err.message : String(err);
    const tooDeep = /max depth exceeded|call stack/i.test(message);
    const code = tooDeep ? 'too_deep' : 'malformed';
    throw new DecodeError(code, `invalid ${what}: ${message}`, uid ? { uid, cause: err } : { cause: err });
  }
}
