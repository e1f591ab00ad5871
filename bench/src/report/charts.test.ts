import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { summarize } from '../metrics/stats.js';
import type { ApiLatencyReport } from '../scenarios/api-latency-report.js';
import type { OfflineDetectionReport } from '../scenarios/offline-detection-report.js';
import { apiCharts, chartName } from './api-charts.js';
import { summaryPercentiles } from './charts.js';
import { offlineCharts } from './offline-charts.js';
import { lineChart } from './svg.js';
import { withChartLinks } from './write.js';

describe('summaryPercentiles', () => {
  it('keeps the finite p50/p90/p99 of a summary', () => {
    expect(summaryPercentiles(summarize([1, 2, 3, 4]))).toEqual([
      [50, 2],
      [90, 4],
      [99, 4],
    ]);
    expect(summaryPercentiles(summarize([]))).toEqual([]);
  });
});

describe('withChartLinks', () => {
  it('appends one image link per chart, titled by the chart', () => {
    const svg = lineChart({ title: 'Agents & [friends]', xLabel: 'x', yLabel: 'y', series: [] });
    const md = withChartLinks('# run\n', 'run-20250101T000000Z-5a', { connected: svg });
    expect(md).toBe('# run\n\n## Charts\n\n![Agents &#38; friends](run-20250101T000000Z-5a.connected.svg)\n');
    expect(withChartLinks('# run\n', 'b', {})).toBe('# run\n');
  });
});

describe('apiCharts and offlineCharts', () => {
  const latency = (ms: number) => ({
    requests: 10,
    errors: 0,
    requestsPerSecond: 5,
    latencyMs: summarize([ms, ms * 2]),
  });

  it('draws one chart per API endpoint with a file-name-safe name', () => {
    const report = {
      fleet: { agents: 100, online: 60, offline: 40, seedSeconds: 1 },
      endpoints: [
        {
          endpoint: 'GET /agents/:id/status',
          api: latency(2),
          raw: latency(1),
          p99OverRaw: 2,
          target: { limitMs: 10, met: true },
          rateUnit: 'req/s',
          rates: [
            { ratePerSecond: 500, api: latency(3), raw: latency(1) },
            { ratePerSecond: 1000, api: latency(4), raw: latency(2) },
          ],
        },
      ],
    } as unknown as ApiLatencyReport;
    const charts = apiCharts(report);
    expect(Object.keys(charts)).toEqual(['latency-get-agents-id-status']);
    const svg = charts['latency-get-agents-id-status']!;
    expect(XMLValidator.validate(svg)).toBe(true);
    // one API and one raw series per offered rate
    for (const label of ['API @ 500 req/s', 'raw @ 500 req/s', 'API @ 1000 req/s', 'raw @ 1000 req/s']) {
      expect(svg).toContain(label);
    }
    expect(chartName('offline page (100)')).toBe('offline-page-100');
  });

  it('draws the detection latency of every offline case, nothing without cases', () => {
    const c = { profile: 'fast', mode: 'silent', agents: 1000, fromLastMessageMs: summarize([3000, 3100]) };
    const charts = offlineCharts({ cases: [c] } as unknown as OfflineDetectionReport);
    expect(charts.detection).toContain('fast silent 1,000');
    expect(offlineCharts({ cases: [] } as unknown as OfflineDetectionReport)).toEqual({});
  });
});
