/**
 * `offlineCharts`: the offline-detection report's detection latencies (last message -> offline in
 * Postgres, p50/p90/p99 per case) as one percentile chart, by chart name.
 */
import type { OfflineDetectionReport } from '../scenarios/offline-detection-report.js';
import { summaryPercentiles } from './charts.js';
import { latencyChart } from './svg.js';

export function offlineCharts(report: OfflineDetectionReport): Record<string, string> {
  if (report.cases.length === 0) return {};
  return {
    detection: latencyChart({
      title: 'Offline detection: last message -> offline in Postgres',
      series: report.cases.map((c) => ({
        label: `${c.profile} ${c.mode} ${c.agents.toLocaleString('en-US')}`,
        percentiles: summaryPercentiles(c.fromLastMessageMs),
      })),
    }),
  };
}
