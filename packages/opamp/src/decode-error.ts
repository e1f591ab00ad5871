/**
 * Why an incoming message could not be decoded.
 * - `empty`: zero bytes of protobuf data (an AgentToServer without instance_uid cannot be served).
 * - `too_large`: above `CodecLimits.maxMessageBytes` (checked before decoding).
 * - `bad_header`: a WebSocket frame whose varint header is not 0 (or is truncated).
 * - `malformed`: not a valid protobuf encoding of the expected message.
 * - `too_deep`: nesting beyond the AnyValue depth limit or protobufjs' recursion limit.
 * - `bad_instance_uid`: instance_uid is neither 16 bytes nor a 26-character ULID string.
 */
export type DecodeErrorCode =
  | 'empty'
  | 'too_large'
  | 'bad_header'
  | 'malformed'
  | 'too_deep'
  | 'bad_instance_uid';

/** Thrown by every decode function of this package, and the only error they throw. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly code: DecodeErrorCode;
  /**
   * The instance_uid bytes exactly as sent, when they could be read, so a transport can echo them in
   * a BAD_REQUEST reply. A copy: it never shares memory with the input buffer.
   */
  readonly uid: Uint8Array | undefined;

  constructor(code: DecodeErrorCode, message: string, options: { uid?: Uint8Array; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.uid = options.uid;
  }
}
