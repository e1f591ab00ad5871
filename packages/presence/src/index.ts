export { bindingConnectionId, isBindingOf } from './binding-id.js';
export {
  type CommandBus,
  type CommandBusObserver,
  type CommandBusOptions,
  type CommandHandler,
  createCommandBus,
} from './command-bus.js';
export {
  type Claim,
  type ConnectionRegistry,
  type ConnectionRegistryOptions,
  createConnectionRegistry,
  decodeOwner,
  encodeOwner,
  type Owner,
  type ReannounceConflict,
  type ReannounceEntry,
  type ReannounceEpoch,
  type ReannounceResult,
  type ReleaseEntry,
} from './connection-registry.js';
export {
  InvalidCommandError,
  PresenceDataError,
  PresenceOptionError,
  PresenceStateError,
} from './errors.js';
export {
  type CloseReason,
  decodeGatewayCommand,
  encodeGatewayCommand,
  type GatewayCommand,
} from './gateway-command.js';
export { DEFAULT_KEY_PREFIX, lastSeenKey, type PresenceKeys, presenceKeys } from './keys.js';
export {
  type LastSeenRange,
  type LastSeenWindow,
  readLastSeenWindow,
  readLateSeen,
  removeLateSeen,
  type ScoredMember,
  scoredMembers,
} from './last-seen-range.js';
export {
  createPresenceWriter,
  type FailedSessionCheck,
  type FlushResult,
  LATE_TOUCH_AGE_MS,
  type MonotonicClock,
  type PresenceWriter,
  type PresenceWriterObserver,
  type PresenceWriterOptions,
  readLastSeen,
} from './presence-writer.js';
export { createPresenceRedis, type PresenceRedisOptions, waitForRedis } from './redis-client.js';
export { createRedisEpoch, type EpochCheck, type RedisEpoch, type RedisEpochOptions } from './redis-epoch.js';
export {
  type AdvanceResult,
  createSessionStore,
  type HttpSession,
  type SessionAdvance,
  type SessionState,
  type SessionStore,
  type SessionStoreOptions,
  type SessionVia,
} from './session-store.js';
