import type { AgentEventType, JobCounts, JobOutcome, QueueName } from '@opamp-fleet/queue';
import { Counter, Gauge, Histogram, type Registry } from '@opamp-fleet/telemetry';

/** Every metric of the worker, defined once on the injected registry. No per-agent labels. */
export interface WorkerMetrics {
  readonly eventsWritten: Counter<'type'>;
  readonly batchEvents: Histogram;
  readonly batchSeconds: Histogram;
  readonly jobsCompleted: Counter<'queue'>;
  readonly jobFailures: Counter<'queue' | 'outcome'>;
  readonly jobsStalled: Counter<'queue'>;
  readonly errors: Counter<'component'>;
  readonly queueJobs: Gauge<'queue' | 'state'>;
  readonly flushLag: Gauge;
  readonly flushDelay: Histogram;
  readonly flushSeconds: Histogram;
  readonly flushEntries: Counter;
  readonly flushRows: Counter;
  readonly flushLate: Counter;
}

export interface WorkerMetricsSources {
  /**
   * The current heartbeat flush lag in seconds, read when the metrics are scraped. When absent or
   * when it fails (Redis down), the gauge keeps the lag recorded at the start of the last flush run.
   */
  flushLagSeconds?: () => Promise<number>;
}

export function createWorkerMetrics(registry: Registry, sources: WorkerMetricsSources = {}): WorkerMetrics {
  const registers = [registry];
  const readLag = sources.flushLagSeconds;
  return {
    eventsWritten: new Counter({
      name: 'opamp_worker_events_written_total',
      help: 'Events of committed batches, by type (a re-run batch counts again).',
      labelNames: ['type'],
      registers,
    }),
    batchEvents: new Histogram({
      name: 'opamp_worker_batch_events',
      help: 'Events per batch written (a group of jobs written together counts as one batch).',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'opamp_worker_batch_duration_seconds',
      help: 'Time to write one event batch to Postgres (successful attempts).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    jobsCompleted: new Counter({
      name: 'opamp_worker_jobs_completed_total',
      help: 'Job attempts that succeeded, by queue.',
      labelNames: ['queue'],
      registers,
    }),
    jobFailures: new Counter({
      name: 'opamp_worker_job_failures_total',
      help: 'Job attempts that failed, by queue and outcome: retry (runs again), permanent (rejected content) or exhausted (no attempts left). A failed heartbeat flush run counts as exhausted; the next run covers it.',
      labelNames: ['queue', 'outcome'],
      registers,
    }),
    jobsStalled: new Counter({
      name: 'opamp_worker_jobs_stalled_total',
      help: 'Jobs of a dead or stuck worker found stalled by this process and re-queued.',
      labelNames: ['queue'],
      registers,
    }),
    errors: new Counter({
      name: 'opamp_worker_errors_total',
      help: 'Errors outside jobs (Redis connection, lock renewal, liveness check), by component.',
      labelNames: ['component'],
      registers,
    }),
    queueJobs: new Gauge({
      name: 'opamp_worker_queue_jobs',
      help: 'Jobs per queue and state (wait, prioritized, active, delayed, failed) of the shared queues, sampled by the liveness check of each worker: every worker reports the same counts, aggregate with max(), not sum().',
      labelNames: ['queue', 'state'],
      registers,
    }),
    flushLag: new Gauge({
      name: 'opamp_worker_heartbeat_flush_lag_seconds',
      help: 'Redis time minus the oldest last-seen not yet flushed to Postgres, read from Redis at scrape time (every worker reports the same cluster-wide value: aggregate with max()); it keeps growing when flush runs stop.',
      registers,
      async collect() {
        if (readLag === undefined) return;
        try {
          this.set(await readLag());
        } catch {
          // Redis unreachable: keep the last value; the outage shows in the error and job metrics
        }
      },
    }),
    flushDelay: new Histogram({
      name: 'opamp_worker_heartbeat_flush_delay_seconds',
      help: 'Per flush run: from the oldest newly flushed last-seen to the end of its write to Postgres.',
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60],
      registers,
    }),
    flushSeconds: new Histogram({
      name: 'opamp_worker_heartbeat_flush_duration_seconds',
      help: 'Duration of one heartbeat flush run (successful runs).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    flushEntries: new Counter({
      name: 'opamp_worker_heartbeat_flush_entries_total',
      help: 'Last-seen entries written to Postgres by the heartbeat flush.',
      registers,
    }),
    flushRows: new Counter({
      name: 'opamp_worker_heartbeat_flush_rows_total',
      help: 'Agent rows whose last_seen_at the heartbeat flush moved forward (or created).',
      registers,
    }),
    flushLate: new Counter({
      name: 'opamp_worker_heartbeat_flush_late_entries_total',
      help: 'Last-seen entries the heartbeat flush took from the late set: touches gateways wrote 500 ms or more after seeing the agent.',
      registers,
    }),
  };
}

/** Records one job attempt. */
export function recordJob(m: WorkerMetrics, queue: QueueName, outcome: JobOutcome): void {
  if (outcome === 'completed') m.jobsCompleted.inc({ queue });
  else m.jobFailures.inc({ queue, outcome });
}

/** Records a batch's counts. */
export function recordBatch(
  m: WorkerMetrics,
  counts: Readonly<Record<AgentEventType, number>>,
  seconds: number,
): void {
  let total = 0;
  for (const [type, n] of Object.entries(counts)) {
    if (n > 0) m.eventsWritten.inc({ type }, n);
    total += n;
  }
  m.batchEvents.observe(total);
  m.batchSeconds.observe(seconds);
}

/** Publishes sampled job counts. */
export function recordCounts(m: WorkerMetrics, queue: QueueName, counts: JobCounts): void {
  for (const [state, n] of Object.entries(counts)) m.queueJobs.set({ queue, state }, n);
}
