export { type BenchOptions, commandLine, parseBenchArgs, USAGE } from './args.js';
export { type Summary, summarize } from './metrics/stats.js';
export { formatConnectMarkdown } from './report/markdown.js';
export type { ConnectReport, Environment, Ratios, TargetRun } from './report/types.js';
export { type ConnectScenarioContext, runConnectScenario } from './scenarios/connect.js';
