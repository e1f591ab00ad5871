/** Registry entry `heartbeat-throughput` (scenarios/heartbeat-throughput.ts), with its charts. */
import { resolve } from 'node:path';
import { COMMON_USAGE, HEARTBEAT_USAGE, parseBenchArgs } from '../args.js';
import { heartbeatCharts } from '../report/charts.js';
import { formatHeartbeatMarkdown } from '../report/heartbeat-markdown.js';
import { runHeartbeatThroughputScenario } from './heartbeat-throughput.js';
import type { ScenarioCli } from './registry.js';

const optionLines = (usage: string): string => usage.split('\n').slice(1).join('\n');

export const heartbeatThroughputCli: ScenarioCli = {
  name: 'heartbeat-throughput',
  summary:
    'N agents heartbeating through gateways -> Redis -> workers -> Postgres, then a raw Postgres baseline',
  usage: `${optionLines(HEARTBEAT_USAGE)}\n${optionLines(COMMON_USAGE)}`,
  async run(argv, context) {
    const options = parseBenchArgs(argv);
    const report = await runHeartbeatThroughputScenario(options, { ...context, now: () => new Date() });
    return {
      report,
      markdown: formatHeartbeatMarkdown(report),
      charts: heartbeatCharts(report),
      agents: options.agents,
      outDir: options.outDir === null ? null : resolve(options.outDir),
      json: options.json,
    };
  },
};
