/**
 * Registry entries `ws-vs-baseline` and its older name `connect`: the gateway against a raw uWS
 * echo server under the same WebSocket load (scenarios/connect.ts), with its charts.
 */
import { resolve } from 'node:path';
import { COMMON_USAGE, CONNECT_USAGE, parseBenchArgs } from '../args.js';
import { connectCharts } from '../report/charts.js';
import { formatConnectMarkdown } from '../report/markdown.js';
import { runConnectScenario } from './connect.js';
import type { ScenarioCli, ScenarioContext, ScenarioOutput } from './registry.js';

const optionLines = (usage: string): string => usage.split('\n').slice(1).join('\n');

async function run(argv: readonly string[], context: ScenarioContext): Promise<ScenarioOutput> {
  const options = parseBenchArgs(argv);
  const report = await runConnectScenario(options, { ...context, now: () => new Date() });
  return {
    report,
    markdown: formatConnectMarkdown(report),
    charts: connectCharts(report),
    agents: options.agents,
    outDir: options.outDir === null ? null : resolve(options.outDir),
    json: options.json,
  };
}

export const wsVsBaselineCli: ScenarioCli = {
  name: 'ws-vs-baseline',
  summary: 'N agents connect and heartbeat to the gateway, then the same against a raw uWS echo server',
  usage: `${optionLines(CONNECT_USAGE)}\n${optionLines(COMMON_USAGE)}`,
  run,
};

export const connectCli: ScenarioCli = {
  name: 'connect',
  summary: 'older name of ws-vs-baseline (same options, results named connect-*)',
  usage: '',
  run,
};
