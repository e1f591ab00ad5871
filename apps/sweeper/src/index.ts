export {
  type CloseSummary,
  createRegistryCloser,
  type RegistryCloserOptions,
  type StaleConnectionCloser,
  type TimedOutConnection,
} from './connection-closer.js';
export { withSessionTimeouts } from './db-url.js';
export { createLastSeenStore, type LastSeenStore } from './last-seen-store.js';
export { createSweeperMetrics, type SweeperMetrics } from './metrics.js';
export { type HoldReason, PresenceGuard, type RedisIdentity } from './presence-guard.js';
export {
  type AgentStatus,
  CONNECTED,
  confirmExpired,
  type DecidedBy,
  detectionLagSeconds,
  type ExpiryCheck,
  errorCutoff,
  GATEWAY_OFFLINE_REASONS,
  type GatewayOfflineReason,
  HEARTBEAT_TIMEOUT,
  type LastSeenEntry,
  nextStatus,
  OFFLINE_TOO_LONG,
  offlineCutoff,
  type StatusEvent,
  type Transition,
} from './state-machine.js';
export {
  createSweeper,
  type Sweeper,
  type SweeperDeps,
  type SweeperOptions,
  type TickReport,
} from './sweeper.js';
