export { agentConnectionHistory, type ConnectionHistoryRow } from './agent-connection-history.js';
export {
  agentStatusTransitions,
  type DecidedBy,
  type StatusTransitionRow,
} from './agent-status-transitions.js';
export {
  AGENT_STATUSES,
  type AgentDescription,
  type AgentRow,
  type AgentStatus,
  agents,
  type JsonValue,
  type Transport,
} from './agents.js';
export { type SweeperLeaseRow, sweeperLease } from './sweeper-lease.js';
export { type SweeperStateRow, sweeperState } from './sweeper-state.js';
