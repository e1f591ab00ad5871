import { describe, expect, it } from 'vitest';
import {
  hasSample,
  histogramBuckets,
  PromParseError,
  parsePrometheusText,
  sumSamples,
} from './prometheus-text.js';

const TEXT = `# HELP opamp_worker_heartbeat_flush_lag_seconds Redis time minus the oldest last-seen.
# TYPE opamp_worker_heartbeat_flush_lag_seconds gauge
opamp_worker_heartbeat_flush_lag_seconds{service="worker"} 0.512

# TYPE opamp_worker_events_written_total counter
opamp_worker_events_written_total{type="connection_opened",service="worker"} 60
opamp_worker_events_written_total{type="agent_state",service="worker"} 61
opamp_worker_heartbeat_flush_rows_total 1200 1700000000000
opamp_worker_heartbeat_flush_delay_seconds_bucket{le="0.5",service="worker"} 3
opamp_worker_heartbeat_flush_delay_seconds_bucket{le="1",service="worker"} 9
opamp_worker_heartbeat_flush_delay_seconds_bucket{le="+Inf",service="worker"} 10
opamp_worker_heartbeat_flush_delay_seconds_sum{service="worker"} 6.5
odd{path="a \\"quoted\\" \\\\ value"} NaN
`;

describe('parsePrometheusText', () => {
  const samples = parsePrometheusText(TEXT);

  it('reads names, labels and values, skipping comments and blank lines', () => {
    expect(samples).toHaveLength(9);
    expect(samples[0]).toEqual({
      name: 'opamp_worker_heartbeat_flush_lag_seconds',
      labels: { service: 'worker' },
      value: 0.512,
    });
    expect(samples.find((s) => s.name === 'opamp_worker_heartbeat_flush_rows_total')?.value).toBe(1200);
    expect(samples.at(-1)?.labels.path).toBe('a "quoted" \\ value');
    expect(samples.at(-1)?.value).toBeNaN();
  });

  it('sums samples, optionally matching labels', () => {
    expect(sumSamples(samples, 'opamp_worker_events_written_total')).toBe(121);
    expect(sumSamples(samples, 'opamp_worker_events_written_total', { type: 'connection_opened' })).toBe(60);
    expect(sumSamples(samples, 'missing')).toBe(0);
    expect(hasSample(samples, 'opamp_worker_heartbeat_flush_rows_total')).toBe(true);
    expect(hasSample(samples, 'missing')).toBe(false);
  });

  it('collects histogram buckets in ascending order, +Inf last', () => {
    expect(histogramBuckets(samples, 'opamp_worker_heartbeat_flush_delay_seconds')).toEqual([
      { le: 0.5, count: 3 },
      { le: 1, count: 9 },
      { le: Number.POSITIVE_INFINITY, count: 10 },
    ]);
  });

  it('sums buckets of several label sets', () => {
    const two = parsePrometheusText('h_bucket{le="1",w="a"} 1\nh_bucket{le="1",w="b"} 2\n');
    expect(histogramBuckets(two, 'h')).toEqual([{ le: 1, count: 3 }]);
    expect(histogramBuckets(two, 'h', { w: 'b' })).toEqual([{ le: 1, count: 2 }]);
    expect(histogramBuckets(two, 'h', { w: 'c' })).toEqual([]);
  });

  it.each(['not a metric line at all', 'x{le="1" 3', 'x{bad label="1"} 2'])('rejects %j', (line) => {
    expect(() => parsePrometheusText(line)).toThrow(PromParseError);
  });
});
