import type { WorkerConfig } from '@opamp-fleet/config';
import { type Db, flushLastSeen } from '@opamp-fleet/db';
import {
  createEventWorker,
  createHeartbeatFlushWorker,
  createHeartbeatSchedule,
  type EventBatch,
  type HeartbeatSchedule,
  type JobWorker,
  type JobWorkerObserver,
  type JobWorkerOptions,
  QUEUES,
  queuePrefix,
} from '@opamp-fleet/queue';
import { type Logger, type OpsServer, type Registry, startOpsServer, throttle } from '@opamp-fleet/telemetry';
import type { Redis } from 'ioredis';
import { writeBatches } from './batch-writer.js';
import { WorkerStateError } from './errors.js';
import { type FlushRun, HeartbeatFlusher } from './heartbeat-flusher.js';
import { createWorkerMetrics, recordBatch, recordCounts, recordJob, type WorkerMetrics } from './metrics.js';

export interface WorkerDeps {
  logger: Logger;
  registry: Registry;
  db: Db;
  /** BullMQ's client: `createQueueRedis({ role: 'worker' })`. */
  queueRedis: Redis;
  /** A fail-fast client for the heartbeat flush's reads (`createPresenceRedis`). */
  redis: Redis;
}

/**
 * The worker process without its process wiring: event batches -> Postgres, the scheduled heartbeat
 * flush, liveness checks and the ops port.
 *
 * Contract: `start()` starts the ops port, registers the heartbeat flush schedule (and restores it
 * whenever Redis lost it) and starts taking jobs; call it once. `close()` reports not ready, stops taking jobs, waits for running ones (up to
 * SHUTDOWN_TIMEOUT_MS per queue) and closes the ops port; it is idempotent and never closes the
 * clients in `deps` (the caller does, afterwards).
 */
export interface Worker {
  start(): Promise<void>;
  close(): Promise<void>;
  /** The ops port once started (useful with METRICS_PORT=0). */
  readonly opsPort: number | null;
  readonly metrics: WorkerMetrics;
}

export function createWorker(config: WorkerConfig, deps: WorkerDeps): Worker {
  return new WorkerProcess(config, deps);
}

class WorkerProcess implements Worker {
  readonly metrics: WorkerMetrics;
  private readonly log: Logger;
  private readonly flusher: HeartbeatFlusher;
  private readonly logFlushError: (err: unknown) => void;
  private readonly logJobError: (queue: string, err: unknown) => void;
  private workers: JobWorker[] = [];
  private schedule: HeartbeatSchedule | null = null;
  private ops: OpsServer | null = null;
  private livenessTimer: NodeJS.Timeout | null = null;
  private started = false;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly config: WorkerConfig,
    private readonly deps: WorkerDeps,
  ) {
    this.log = deps.logger.child({ component: 'worker' });
    const flusher = new HeartbeatFlusher({
      redis: deps.redis,
      keyPrefix: config.redisKeyPrefix,
      write: (ids, lastSeenMs) => flushLastSeen(deps.db, ids, lastSeenMs),
      chunkSize: config.heartbeatFlushChunkSize,
      maxPerRun: config.heartbeatFlushMaxPerRun,
      overlapMs: config.heartbeatFlushOverlapMs,
    });
    this.flusher = flusher;
    this.metrics = createWorkerMetrics(deps.registry, {
      flushLagSeconds: async () => (await flusher.currentLagMs()) / 1000,
    });
    this.logFlushError = throttle(10_000, (suppressed, err) =>
      this.log.warn({ err, suppressed }, 'heartbeat flush failed; the next run retries'),
    );
    this.logJobError = throttle(10_000, (suppressed, queue, err) =>
      this.log.warn({ err, queue, suppressed }, 'job attempt failed'),
    );
  }

  get opsPort(): number | null {
    return this.ops?.port ?? null;
  }

  async start(): Promise<void> {
    if (this.started) throw new WorkerStateError('start() called twice');
    this.started = true;
    const c = this.config;
    this.ops = await startOpsServer({
      host: c.metricsHost,
      port: c.metricsPort,
      registry: this.deps.registry,
      isReady: () => this.workers.length > 0 && this.closing === null,
      isHealthy: () => this.workers.every((w) => w.alive),
    });
    const prefix = queuePrefix(c.redisKeyPrefix);
    this.schedule = createHeartbeatSchedule({
      connection: this.deps.queueRedis,
      prefix,
      everyMs: c.heartbeatFlushIntervalMs,
    });
    await this.schedule.ensure();
    const common: JobWorkerOptions = {
      connection: this.deps.queueRedis,
      prefix,
      lockDurationMs: c.jobLockDurationMs,
      stalledIntervalMs: c.jobStalledIntervalMs,
      maxStalledCount: c.jobMaxStalledCount,
      retryBaseMs: c.jobRetryBaseDelayMs,
      retryMaxMs: c.jobRetryMaxDelayMs,
      closeTimeoutMs: c.shutdownTimeoutMs,
      stuckAfterMs: c.stuckAfterMs,
      name: c.workerId,
      observer: this.jobObserver(),
    };
    this.workers = [
      createEventWorker({
        ...common,
        concurrency: c.concurrency,
        handler: (batch) => this.writeEvents([batch]),
        ...(c.groupMaxEvents > 0
          ? { handleMany: (batches) => this.writeEvents(batches), coalesceMaxEvents: c.groupMaxEvents }
          : {}),
      }),
      createHeartbeatFlushWorker({
        ...common,
        // a flush is short: a dead worker's run is taken over after seconds, not the event jobs' lock
        lockDurationMs: Math.max(5000, 4 * c.heartbeatFlushIntervalMs),
        stalledIntervalMs: Math.max(5000, 4 * c.heartbeatFlushIntervalMs),
        handler: async () => {
          await this.flushHeartbeats();
        },
      }),
    ];
    this.scheduleLivenessCheck();
    this.log.info(
      { workerId: c.workerId, concurrency: c.concurrency, opsPort: this.ops.port, prefix },
      'worker started',
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.livenessTimer !== null) clearTimeout(this.livenessTimer);
    this.livenessTimer = null;
    await Promise.all(this.workers.map((w) => w.close()));
    await this.schedule?.close();
    await this.ops?.close();
    this.log.info('worker stopped');
  }

  /** Writes event batches (one job's, or a group of jobs' together) and records the write. */
  private async writeEvents(batches: EventBatch[]): Promise<void> {
    const startedAt = performance.now();
    const { counts } = await writeBatches(this.deps.db, batches);
    recordBatch(this.metrics, counts, (performance.now() - startedAt) / 1000);
  }

  /** Runs one flush and records its metrics; failures propagate (the job fails, the next run retries). */
  private async flushHeartbeats(): Promise<FlushRun> {
    const startedAt = performance.now();
    let run: FlushRun;
    try {
      run = await this.flusher.runOnce();
    } catch (err) {
      this.logFlushError(err);
      throw err;
    }
    const m = this.metrics;
    m.flushLag.set(run.lagMs / 1000);
    if (run.delayMs !== null) m.flushDelay.observe(run.delayMs / 1000);
    m.flushSeconds.observe((performance.now() - startedAt) / 1000);
    m.flushEntries.inc(run.written);
    m.flushRows.inc(run.rowsChanged);
    m.flushLate.inc(run.late);
    if (!run.complete) this.log.info({ read: run.read }, 'heartbeat flush capped; the rest follows next run');
    return run;
  }

  private jobObserver(): JobWorkerObserver {
    return {
      onProcessed: (queue, outcome, _seconds, err) => {
        recordJob(this.metrics, queue, outcome);
        // a failed flush run is logged (throttled) by flushHeartbeats and superseded by the next run
        if (outcome === 'completed' || queue !== QUEUES.agentEvents) return;
        if (outcome === 'retry') this.logJobError(queue, err);
        else
          this.log.error({ err, queue, outcome }, 'event batch failed for good; it stays in the failed set');
      },
      onStalled: (queue, jobId) => {
        this.metrics.jobsStalled.inc({ queue });
        this.log.warn({ queue, jobId }, 'stalled job re-queued');
      },
      onError: (queue, err) => {
        this.metrics.errors.inc({ component: queue });
        this.logJobError(queue, err);
      },
    };
  }

  /**
   * Samples job counts, judges liveness by progress, and puts the flush schedule back if Redis lost
   * it (restart without persistence, FLUSHALL); never overlaps itself.
   */
  private scheduleLivenessCheck(): void {
    const everyMs = Math.min(5000, Math.max(250, Math.floor(this.config.stuckAfterMs / 4)));
    this.livenessTimer = setTimeout(async () => {
      try {
        if (await this.schedule?.ensure()) this.log.warn('heartbeat flush schedule was missing; restored');
      } catch (err) {
        this.metrics.errors.inc({ component: 'schedule' });
        this.logJobError(QUEUES.heartbeatFlush, err);
      }
      for (const w of this.workers) {
        try {
          recordCounts(this.metrics, w.queueName, (await w.checkLiveness()).counts);
        } catch (err) {
          this.metrics.errors.inc({ component: 'liveness' });
          this.logJobError(w.queueName, err);
        }
      }
      if (this.closing === null) this.scheduleLivenessCheck();
    }, everyMs);
    this.livenessTimer.unref();
  }
}
