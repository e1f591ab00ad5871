export { API_ENV, type ApiConfig, describeApiConfig, loadApiConfig } from './api.js';
export type { VariableDoc } from './env.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export {
  currentProcessFacts,
  describeGatewayConfig,
  GATEWAY_ENV,
  type GatewayConfig,
  type LogLevel,
  loadGatewayConfig,
  type ProcessFacts,
} from './gateway.js';
export { loadConfigOrExit } from './load-or-exit.js';
export { renderVariablesTable } from './markdown.js';
export {
  connectionCapForFileLimit,
  parseOpenFileSoftLimit,
  readOpenFileSoftLimit,
} from './open-file-limit.js';
export { describeSweeperConfig, loadSweeperConfig, SWEEPER_ENV, type SweeperConfig } from './sweeper.js';
export { describeWorkerConfig, loadWorkerConfig, WORKER_ENV, type WorkerConfig } from './worker.js';
