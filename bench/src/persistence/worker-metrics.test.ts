import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../metrics/prometheus-text.js';
import { readWorkerScrape, totals, totalsDelta, type WorkerScrape } from './worker-metrics.js';

const text = (runs: number, rows: number, lag: number, buckets: [number, number]) => `
opamp_worker_heartbeat_flush_lag_seconds{service="worker"} ${lag}
opamp_worker_heartbeat_flush_duration_seconds_bucket{le="+Inf",service="worker"} ${runs}
opamp_worker_heartbeat_flush_duration_seconds_sum{service="worker"} 1.5
opamp_worker_heartbeat_flush_duration_seconds_count{service="worker"} ${runs}
opamp_worker_heartbeat_flush_entries_total{service="worker"} ${rows + 5}
opamp_worker_heartbeat_flush_rows_total{service="worker"} ${rows}
opamp_worker_heartbeat_flush_late_entries_total{service="worker"} ${runs * 2}
opamp_worker_events_written_total{type="connection_opened",service="worker"} 60
opamp_worker_events_written_total{type="agent_state",service="worker"} 60
opamp_worker_heartbeat_flush_delay_seconds_bucket{le="1",service="worker"} ${buckets[0]}
opamp_worker_heartbeat_flush_delay_seconds_bucket{le="+Inf",service="worker"} ${buckets[1]}
opamp_worker_queue_jobs{queue="agent-events",state="wait",service="worker"} 7
opamp_worker_queue_jobs{queue="agent-events",state="prioritized",service="worker"} 2
opamp_worker_queue_jobs{queue="agent-events",state="active",service="worker"} 4
opamp_worker_queue_jobs{queue="heartbeat-flush",state="wait",service="worker"} 1
`;

const scrape = (...args: Parameters<typeof text>): WorkerScrape =>
  readWorkerScrape(parsePrometheusText(text(...args)));

describe('worker scrapes', () => {
  it('reads the flush and event metrics of one worker', () => {
    expect(scrape(4, 100, 0.5, [3, 4])).toEqual({
      runs: 4,
      lagSeconds: 0.5,
      entries: 105,
      rows: 100,
      late: 8,
      connectionOpened: 60,
      eventJobsWaiting: 9, // wait + prioritized of the event queue: not running, not the flush queue
      delayBuckets: [
        { le: 1, count: 3 },
        { le: Number.POSITIVE_INFINITY, count: 4 },
      ],
    });
  });

  it('adds workers up (skipping those that did not answer) and subtracts two points in time', () => {
    const before = totals([scrape(4, 100, 0.5, [3, 4]), null]);
    const after = totals([scrape(10, 700, 0.4, [8, 10]), scrape(1, 50, 0.9, [0, 1])]);
    expect(after).toMatchObject({ runs: 11, rows: 750, entries: 760, late: 22, connectionOpened: 120 });
    expect(totalsDelta(before, after)).toEqual({
      runs: 7,
      entries: 655,
      rows: 650,
      late: 14,
      connectionOpened: 60,
      delayBuckets: [
        { le: 1, count: 5 },
        { le: Number.POSITIVE_INFINITY, count: 7 },
      ],
    });
  });
});
