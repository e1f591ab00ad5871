import type protobuf from 'protobufjs/minimal.js';
import { findTooDeepAttributes } from './attribute-depth.js';
import type { AgentMessage } from './codec.js';
import { DecodeError } from './decode-error.js';
import { type CodecLimits, DEFAULT_CODEC_LIMITS } from './limits.js';
import { pb } from './proto.js';

/**
 * The AgentToServer sub-messages an agent omits when unchanged since it last reported them
 * ("status compression"). The server keeps the last value of each, per agent, across connections.
 */
export const COMPRESSIBLE_FIELDS = [
  'agentDescription',
  'health',
  'effectiveConfig',
  'remoteConfigStatus',
  'packageStatuses',
  'customCapabilities',
  'availableComponents',
  'connectionSettingsStatus',
] as const;

export type CompressibleField = (typeof COMPRESSIBLE_FIELDS)[number];

/** Compressible sub-messages, each encoded as its own protobuf bytes (absent = not reported). */
export type StateFields = Partial<Record<CompressibleField, Uint8Array>>;

interface MessageType<T> {
  encode(message: T, writer?: protobuf.Writer): protobuf.Writer;
  decode(reader: protobuf.Reader | Uint8Array, length?: number): T;
}

const FIELD_TYPES = {
  agentDescription: pb.AgentDescription,
  health: pb.ComponentHealth,
  effectiveConfig: pb.EffectiveConfig,
  remoteConfigStatus: pb.RemoteConfigStatus,
  packageStatuses: pb.PackageStatuses,
  customCapabilities: pb.CustomCapabilities,
  availableComponents: pb.AvailableComponents,
  connectionSettingsStatus: pb.ConnectionSettingsStatus,
} satisfies { [F in CompressibleField]: MessageType<unknown> };

/** The decoded message type stored under a compressible field name. */
export type StateMessage<F extends CompressibleField> = ReturnType<(typeof FIELD_TYPES)[F]['decode']>;

const FIELD_SET: ReadonlySet<string> = new Set(COMPRESSIBLE_FIELDS);

export function isCompressibleField(name: string): name is CompressibleField {
  return FIELD_SET.has(name);
}

/**
 * The compressible sub-messages present in `msg`, each re-encoded as standalone protobuf bytes (new
 * buffers, safe to keep). A present but empty sub-message yields empty bytes: it is still a report.
 */
export function extractStateFields(msg: Pick<AgentMessage, 'raw'>): StateFields {
  const fields: StateFields = {};
  for (const name of COMPRESSIBLE_FIELDS) {
    const value = msg.raw[name];
    if (value != null) {
      fields[name] = (FIELD_TYPES[name] as MessageType<typeof value>).encode(value).finish();
    }
  }
  return fields;
}

/**
 * Applies newly reported fields over the stored ones: absent means unchanged (spec), so a field is
 * replaced only when reported. Keys not in COMPRESSIBLE_FIELDS are kept as stored. Returns a new object.
 */
export function mergeState(
  stored: Readonly<Record<string, Uint8Array>>,
  fields: StateFields,
): Record<string, Uint8Array> {
  const merged: Record<string, Uint8Array> = { ...stored };
  for (const name of COMPRESSIBLE_FIELDS) {
    const value = fields[name];
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

/**
 * Decodes one stored sub-message. Applies the same AnyValue depth limit as live decoding, since
 * stored bytes are agent input. Throws only DecodeError (`malformed` or `too_deep`).
 */
export function decodeStoredField<F extends CompressibleField>(
  name: F,
  bytes: Uint8Array,
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): StateMessage<F> {
  if (!isCompressibleField(name)) throw new DecodeError('malformed', `unknown state field ${String(name)}`);
  const type: MessageType<unknown> = FIELD_TYPES[name];
  let message: StateMessage<F>;
  try {
    message = type.decode(bytes) as StateMessage<F>;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const code = /max depth exceeded/.test(reason) ? 'too_deep' : 'malformed';
    throw new DecodeError(code, `invalid stored ${name}: ${reason}`, { cause: err });
  }
  const where = findTooDeepAttributes({ [name]: message }, limits.maxAnyValueDepth);
  if (where !== undefined) {
    throw new DecodeError(
      'too_deep',
      `AnyValue in stored ${where} nested deeper than ${limits.maxAnyValueDepth}`,
    );
  }
  return message;
}
