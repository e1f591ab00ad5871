import { churnCli } from './churn.js';
import { connectStormCli } from './connect-storm.js';
import { apiLatencyCli, offlineDetectionCli } from './extra-cli.js';
import { heartbeatThroughputCli } from './heartbeat-throughput-cli.js';
import { httpVsPeerCli } from './http-vs-peer.js';
import type { ScenarioCli } from './registry.js';
import { rollingRestartCli } from './rolling-restart.js';
import { scaleCli } from './scale.js';
import { steadyStateCli } from './steady-state.js';
import { connectCli, wsVsBaselineCli } from './ws-vs-baseline.js';

/** Every `pnpm bench <name>` scenario. Each entry lives in its own module; add new scenarios here. */
export const SCENARIO_REGISTRY: readonly ScenarioCli[] = [
  wsVsBaselineCli,
  connectCli,
  heartbeatThroughputCli,
  connectStormCli,
  httpVsPeerCli,
  offlineDetectionCli,
  apiLatencyCli,
  steadyStateCli,
  churnCli,
  rollingRestartCli,
  scaleCli,
];

export function findScenario(name: string | undefined): ScenarioCli | undefined {
  return SCENARIO_REGISTRY.find((scenario) => scenario.name === name);
}

/** The help text of every registered scenario. */
export function registryUsage(): string {
  return SCENARIO_REGISTRY.map(
    (s) => `${s.name}:${' '.repeat(Math.max(1, 30 - s.name.length))}${s.summary}\n${s.usage}`,
  ).join('\n\n');
}
