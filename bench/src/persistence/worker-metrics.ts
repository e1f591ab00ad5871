import { FlushLagTracker } from '../metrics/flush-lag.js';
import { type Buckets, bucketsDelta } from '../metrics/histogram.js';
import {
  histogramBuckets,
  type PromSample,
  scrapePrometheus,
  sumSamples,
} from '../metrics/prometheus-text.js';
import { startSampler } from './sampler.js';

/** Metric names of the worker (apps/worker/src/metrics.ts) the bench reads. */
export const WORKER_METRICS = {
  lag: 'opamp_worker_heartbeat_flush_lag_seconds',
  delay: 'opamp_worker_heartbeat_flush_delay_seconds',
  duration: 'opamp_worker_heartbeat_flush_duration_seconds',
  entries: 'opamp_worker_heartbeat_flush_entries_total',
  rows: 'opamp_worker_heartbeat_flush_rows_total',
  late: 'opamp_worker_heartbeat_flush_late_entries_total',
  events: 'opamp_worker_events_written_total',
  queueJobs: 'opamp_worker_queue_jobs',
} as const;

/** The queue of connection and state event batches (QUEUES.agentEvents), as its `queue` label reads. */
const EVENT_QUEUE = 'agent-events';

const SCRAPE_TIMEOUT_MS = 1000;

/** What the bench reads from one worker's /metrics. */
export interface WorkerScrape {
  /** Completed heartbeat flush runs. */
  runs: number;
  lagSeconds: number;
  entries: number;
  rows: number;
  /** Entries taken from the late last-seen set (touches written 500 ms or more after they were seen). */
  late: number;
  connectionOpened: number;
  /** Event batches queued for the workers (BullMQ wait + prioritized), as this worker last sampled them. */
  eventJobsWaiting: number;
  delayBuckets: Buckets;
}

export function readWorkerScrape(samples: readonly PromSample[]): WorkerScrape {
  return {
    runs: sumSamples(samples, `${WORKER_METRICS.duration}_count`),
    lagSeconds: sumSamples(samples, WORKER_METRICS.lag),
    entries: sumSamples(samples, WORKER_METRICS.entries),
    rows: sumSamples(samples, WORKER_METRICS.rows),
    late: sumSamples(samples, WORKER_METRICS.late),
    connectionOpened: sumSamples(samples, WORKER_METRICS.events, { type: 'connection_opened' }),
    eventJobsWaiting:
      sumSamples(samples, WORKER_METRICS.queueJobs, { queue: EVENT_QUEUE, state: 'wait' }) +
      sumSamples(samples, WORKER_METRICS.queueJobs, { queue: EVENT_QUEUE, state: 'prioritized' }),
    delayBuckets: histogramBuckets(samples, WORKER_METRICS.delay),
  };
}

/** One worker's metrics, or null when it does not answer within `timeoutMs` (default 1 s). */
export async function scrapeWorker(url: string, timeoutMs = SCRAPE_TIMEOUT_MS): Promise<WorkerScrape | null> {
  try {
    return readWorkerScrape(await scrapePrometheus(url, timeoutMs));
  } catch {
    return null;
  }
}

export function scrapeWorkers(
  urls: readonly string[],
  timeoutMs = SCRAPE_TIMEOUT_MS,
): Promise<Array<WorkerScrape | null>> {
  return Promise.all(urls.map((url) => scrapeWorker(url, timeoutMs)));
}

/** Counter totals over the workers that answered (gauges of the shared queue and lag are left out). */
export function totals(
  scrapes: ReadonlyArray<WorkerScrape | null>,
): Omit<WorkerScrape, 'lagSeconds' | 'eventJobsWaiting'> {
  const ok = scrapes.filter((s): s is WorkerScrape => s !== null);
  const sum = (pick: (s: WorkerScrape) => number): number => ok.reduce((n, s) => n + pick(s), 0);
  const buckets = new Map<number, number>();
  for (const s of ok) for (const b of s.delayBuckets) buckets.set(b.le, (buckets.get(b.le) ?? 0) + b.count);
  return {
    runs: sum((s) => s.runs),
    entries: sum((s) => s.entries),
    rows: sum((s) => s.rows),
    late: sum((s) => s.late),
    connectionOpened: sum((s) => s.connectionOpened),
    delayBuckets: [...buckets.entries()].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count })),
  };
}

/** Counter increases between two `totals`. */
export function totalsDelta(
  before: ReturnType<typeof totals>,
  after: ReturnType<typeof totals>,
): ReturnType<typeof totals> {
  return {
    runs: after.runs - before.runs,
    entries: after.entries - before.entries,
    rows: after.rows - before.rows,
    late: after.late - before.late,
    connectionOpened: after.connectionOpened - before.connectionOpened,
    delayBuckets: bucketsDelta(before.delayBuckets, after.delayBuckets),
  };
}

/**
 * Samples the cluster's flush lag every `intervalMs` (scrapes never overlap) until `stop()`, which
 * returns the samples in seconds (see FlushLagTracker for how several workers' gauges combine).
 */
export function startLagSampler(urls: readonly string[], intervalMs: number): { stop(): Promise<number[]> } {
  const tracker = new FlushLagTracker();
  return startSampler(async () => {
    const scrapes = await scrapeWorkers(urls);
    const lag = tracker.observe(
      scrapes.map((s) => (s === null ? null : { runs: s.runs, lagSeconds: s.lagSeconds })),
    );
    return lag === null ? [] : [lag];
  }, intervalMs);
}
