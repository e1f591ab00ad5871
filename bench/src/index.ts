export { type BenchOptions, commandLine, parseBenchArgs, USAGE } from './args.js';
export { type Summary, summarize } from './metrics/stats.js';
export { formatHeartbeatMarkdown } from './report/heartbeat-markdown.js';
export type { HeartbeatThroughputReport } from './report/heartbeat-types.js';
export { formatConnectMarkdown } from './report/markdown.js';
export type { ConnectReport, Environment, Ratios, TargetRun } from './report/types.js';
export { Cleanup } from './scenarios/cleanup.js';
export { type ConnectScenarioContext, runConnectScenario } from './scenarios/connect.js';
export {
  type HeartbeatScenarioContext,
  runHeartbeatThroughputScenario,
} from './scenarios/heartbeat-throughput.js';
