import { resolve } from 'node:path';
import { apiCharts } from '../report/api-charts.js';
import { offlineCharts } from '../report/offline-charts.js';
import { runApiLatencyScenario } from './api-latency.js';
import { formatApiMarkdown } from './api-latency-report.js';
import { EXTRA_USAGE, parseExtraArgs } from './extra-args.js';
import { runOfflineDetectionScenario } from './offline-detection.js';
import { formatOfflineMarkdown } from './offline-detection-report.js';
import type { ScenarioCli, ScenarioContext, ScenarioOutput } from './registry.js';

const [offlineUsage = '', apiUsage = ''] = EXTRA_USAGE.split('\n\n');
const optionsOf = (usage: string): string => usage.split('\n').slice(1).join('\n');

async function runExtra(argv: readonly string[], context: ScenarioContext): Promise<ScenarioOutput> {
  const options = parseExtraArgs(argv);
  const common = {
    agents: options.agents,
    outDir: options.out === null ? null : resolve(options.out),
    json: options.json,
  };
  if (options.scenario === 'offline-detection') {
    const report = await runOfflineDetectionScenario(options.cases, context);
    return { ...common, report, markdown: formatOfflineMarkdown(report), charts: offlineCharts(report) };
  }
  const report = await runApiLatencyScenario(options, context).finally(() => context.cleanup.run());
  return { ...common, report, markdown: formatApiMarkdown(report), charts: apiCharts(report) };
}

export const offlineDetectionCli: ScenarioCli = {
  name: 'offline-detection',
  summary: 'agents heartbeat, then are all lost at once; time until offline in Postgres',
  usage: optionsOf(offlineUsage),
  run: runExtra,
};

export const apiLatencyCli: ScenarioCli = {
  name: 'api-latency',
  summary: 'REST reads against a seeded database, then the same reads as raw SQL',
  usage: optionsOf(apiUsage),
  run: runExtra,
};
