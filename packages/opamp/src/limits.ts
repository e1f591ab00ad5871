/**
 * Bounds applied to every decoded message.
 * - `maxMessageBytes`: largest accepted message; for WebSocket frames it covers header + data, as the
 *   spec measures it (after permessage-deflate decompression).
 * - `maxAnyValueDepth`: deepest accepted AnyValue in attributes (a scalar attribute value is depth 1,
 *   a list of scalars depth 2, ...).
 */
export interface CodecLimits {
  readonly maxMessageBytes: number;
  readonly maxAnyValueDepth: number;
}

/**
 * - 64 MiB is the spec's recommended default message size limit (WebSocket and plain HTTP).
 * - AnyValue depth 32: real attributes are flat or a few levels deep (OpenTelemetry resource
 *   attributes), so 32 is generous. It also matches the hard backstop below it: protobufjs' static
 *   decoder rejects messages nested more than 100 levels (`Reader.recursionLimit`), and each AnyValue
 *   level costs 2 (array) or 3 (kvlist) message levels, i.e. about 33 kvlist levels under
 *   agent_description. A larger configured depth therefore cannot admit more than that backstop.
 */
export const DEFAULT_CODEC_LIMITS: CodecLimits = Object.freeze({
  maxMessageBytes: 64 * 1024 * 1024,
  maxAnyValueDepth: 32,
});

/** Merges overrides onto the defaults and validates them; throws RangeError naming the bad option. */
export function resolveCodecLimits(overrides: Partial<CodecLimits> = {}): CodecLimits {
  const limits = { ...DEFAULT_CODEC_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`CodecLimits.${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}
