export { encodeAckBody, encodeWsAckFrame } from './ack-frame.js';
export type { AgentMessage } from './codec.js';
export {
  decodeAgentToServer,
  decodeServerToAgent,
  decodeWsFrame,
  decodeWsServerFrame,
  encodeAgentToServer,
  encodeServerToAgent,
  encodeWsAgentFrame,
  encodeWsFrame,
} from './codec.js';
export {
  AgentCapabilities,
  AgentToServerFlags,
  hasCapability,
  ServerCapabilities,
  ServerErrorResponseType,
  ServerToAgentFlags,
} from './constants.js';
export { DecodeError, type DecodeErrorCode } from './decode-error.js';
export { type DuplicateDecision, type DuplicateSituation, decideDuplicate } from './duplicate.js';
export { isFullState, needsFullState } from './full-state.js';
export {
  type InstanceUid,
  newInstanceUid,
  parseInstanceUid,
  uidBytesToId,
  uidBytesToUlid,
  uidIdToBytes,
  uidMatchesId,
} from './instance-uid.js';
export { type CodecLimits, DEFAULT_CODEC_LIMITS, resolveCodecLimits } from './limits.js';
export * from './proto.js';
export {
  ackReply,
  badRequestReply,
  type OpampSettings,
  opampSettingsOffer,
  REPLACED_CLOSE_REASON,
  SERVER_CAPABILITIES,
  unavailableReply,
  withNewInstanceUid,
  withOpampSettings,
} from './replies.js';
export {
  COMPRESSIBLE_FIELDS,
  type CompressibleField,
  decodeStoredField,
  extractStateFields,
  isCompressibleField,
  mergeState,
  type StateFields,
  type StateMessage,
} from './state.js';
export { type Uint64, uint64ToBitmask, uint64ToCounter } from './uint64.js';
