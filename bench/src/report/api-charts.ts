/**
 * `apiCharts`: the api-latency report's request latencies (p50/p90/p99), the API against the raw
 * repository reads, one percentile chart per endpoint, by chart name.
 */
import type { ApiLatencyReport } from '../scenarios/api-latency-report.js';
import { summaryPercentiles } from './charts.js';
import { latencyChart } from './svg.js';

/** A file-name-safe chart name for an endpoint label. */
export function chartName(endpoint: string): string {
  return endpoint
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

export function apiCharts(report: ApiLatencyReport): Record<string, string> {
  return Object.fromEntries(
    report.endpoints.map((e) => [
      `latency-${chartName(e.endpoint)}`,
      latencyChart({
        title: `${e.endpoint}: API vs raw repository reads at offered rates (${report.fleet.agents.toLocaleString('en-US')} agents)`,
        series: (e.rates ?? []).flatMap((r) => [
          {
            label: `API @ ${r.ratePerSecond} ${e.rateUnit}`,
            percentiles: summaryPercentiles(r.api.latencyMs),
          },
          {
            label: `raw @ ${r.ratePerSecond} ${e.rateUnit}`,
            percentiles: summaryPercentiles(r.raw.latencyMs),
          },
        ]),
      }),
    ]),
  );
}
