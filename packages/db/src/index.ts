export {
  createDb,
  type Db,
  type DbExecutor,
  type DbHandle,
  type DbOptions,
  type DbTransaction,
} from './client.js';
export { DbOptionError, InvalidBatchError } from './errors.js';
export {
  type AgentStateChanged,
  type ConnectionClosed,
  type ConnectionEvent,
  type ConnectionOpened,
  type FleetEvent,
  isTransientClose,
  TRANSIENT_CLOSE_REASONS,
  type TransientCloseReason,
  validateConnectionEvents,
  validateStateEvents,
} from './events.js';
export { type MigrateOptions, type MigrateResult, migrate, migrateCli, migrationsFolder } from './migrate.js';
export {
  type HistoryPageOptions,
  type HistoryPageRow,
  pageConnectionHistory,
  pageTransitions,
  type TransitionPageRow,
  type TransitionsPageOptions,
} from './repositories/api-history-queries.js';
export {
  type AgentsPageOptions,
  type AttributeFilter,
  agentExists,
  countAgentsByStatus,
  countStaleOnline,
  databaseNowMs,
  listStaleOnline,
  type OfflinePageOptions,
  type OfflinePageRow,
  pageAgents,
  pageOfflineAgents,
  type StaleCandidates,
  type StaleOnlineAgent,
  type StaleRule,
} from './repositories/api-queries.js';
export type { AgentStatusRow, AgentSummaryRow, TimeKey } from './repositories/api-rows.js';
export {
  applyConnectionEvents,
  type ConnectionBatchResult,
  compareConnectionEvents,
} from './repositories/connection-events.js';
export { flushLastSeen } from './repositories/last-seen.js';
export {
  getAgent,
  getAgentStatus,
  type ListOptions,
  listHistory,
  listTransitions,
} from './repositories/reads.js';
export { applyStateEvents, type StateBatchResult } from './repositories/state-events.js';
export {
  type PresenceBaseline,
  readPresenceBaseline,
  writePresenceBaseline,
} from './repositories/sweeper-state.js';
export {
  type ErrorOptions,
  type ErrorResult,
  findSeenWhileOffline,
  findStaleOnline,
  type MarkedOffline,
  markError,
  markOffline,
  type OfflineCandidate,
  type OfflineResult,
  type OnlineAgent,
  readOnlineAgents,
  type SeenWhileOfflineOptions,
  type StaleOnlineOptions,
  type SweeperWriteOptions,
} from './repositories/sweeper-transitions.js';
export * from './schema/index.js';
