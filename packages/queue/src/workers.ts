import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type EventBatch,
  HEARTBEAT_FLUSH_SCHEDULER_ID,
  heartbeatFlushSchema,
  JOBS,
  parseEventBatch,
  QUEUES,
} from './catalog.js';
import { checkInt, QueueOptionError } from './errors.js';
import { createJobWorker, type JobWorker, type JobWorkerOptions } from './job-worker.js';

/** What an event batch handler learns about its job. */
export interface EventJobInfo {
  readonly jobId: string;
  /** Failed attempts before this one (0 on the first run). */
  readonly attemptsMade: number;
}

export interface EventWorkerOptions extends JobWorkerOptions {
  /** Writes one validated batch; must be idempotent (a batch can run more than once). */
  handler: (batch: EventBatch, job: EventJobInfo) => Promise<void>;
  /**
   * Writes the batches of several jobs at once, as writing each would (idempotent, any order). With
   * it, a slot that starts a job also takes waiting jobs up to `coalesceMaxEvents` events, so many
   * small batches (many gateways, each sending every EVENT_FLUSH_INTERVAL_MS) cost one write.
   */
  handleMany?: (batches: EventBatch[], jobs: EventJobInfo[]) => Promise<void>;
  /** Events a group of jobs is filled up to (a job is never split). Default 500. */
  coalesceMaxEvents?: number;
}

const info = (job: { id?: string | undefined; attemptsMade: number }): EventJobInfo => ({
  jobId: job.id ?? '',
  attemptsMade: job.attemptsMade,
});

/** A worker of the `agent-events` queue; payloads are validated before the handler sees them. */
export function createEventWorker(options: EventWorkerOptions): JobWorker {
  if (typeof options.handler !== 'function') throw new QueueOptionError('handler must be a function');
  const { handleMany } = options;
  return createJobWorker(
    QUEUES.agentEvents,
    options,
    parseEventBatch,
    (batch, job) => options.handler(batch, info(job)),
    Number.POSITIVE_INFINITY,
    handleMany === undefined
      ? undefined
      : {
          maxItems: options.coalesceMaxEvents ?? 500,
          size: (batch) => batch.events.length,
          handleMany: (batches, jobs) => handleMany(batches, jobs.map(info)),
        },
  );
}

export interface HeartbeatFlushWorkerOptions extends Omit<JobWorkerOptions, 'concurrency'> {
  /** Runs one flush; a failed run is not retried (the next scheduled run covers it). */
  handler: () => Promise<void>;
}

/** A worker of the `heartbeat-flush` queue, one job at a time. */
export function createHeartbeatFlushWorker(options: HeartbeatFlushWorkerOptions): JobWorker {
  if (typeof options.handler !== 'function') throw new QueueOptionError('handler must be a function');
  return createJobWorker(
    QUEUES.heartbeatFlush,
    { ...options, concurrency: 1 },
    (data) => heartbeatFlushSchema.parse(data ?? {}),
    () => options.handler(),
    1, // the schedule's cluster-wide limit, see createHeartbeatSchedule
  );
}

export interface HeartbeatScheduleOptions {
  connection: Redis;
  prefix: string;
  /** Period of the flush. */
  everyMs: number;
}

/**
 * The job scheduler of the heartbeat flush. The scheduler keeps one delayed job at a time; the
 * queue is limited to one active job across all workers, so runs never overlap; failed runs are
 * removed, not retried (the next run covers them).
 */
export interface HeartbeatSchedule {
  /**
   * Creates or updates the scheduler and the one-at-a-time limit when they are missing or differ
   * (first start, a changed period, or Redis lost its data); returns true when it wrote them.
   * Idempotent: every worker process may call it at start-up and then periodically.
   */
  ensure(): Promise<boolean>;
  /** Closes its BullMQ queue (not the Redis client). Idempotent. */
  close(): Promise<void>;
}

export function createHeartbeatSchedule(options: HeartbeatScheduleOptions): HeartbeatSchedule {
  const everyMs = checkInt('everyMs', options.everyMs, 10);
  const queue = new Queue(QUEUES.heartbeatFlush, { connection: options.connection, prefix: options.prefix });
  queue.on('error', () => {}); // failures surface as rejections of ensure()
  let closing: Promise<void> | undefined;
  return {
    async ensure() {
      const [scheduler, limit] = await Promise.all([
        queue.getJobScheduler(HEARTBEAT_FLUSH_SCHEDULER_ID),
        queue.getGlobalConcurrency(),
      ]);
      if (scheduler?.every === everyMs && limit === 1) return false;
      await queue.setGlobalConcurrency(1);
      await queue.upsertJobScheduler(
        HEARTBEAT_FLUSH_SCHEDULER_ID,
        { every: everyMs },
        {
          name: JOBS.heartbeatFlush,
          data: {},
          opts: { attempts: 1, removeOnComplete: true, removeOnFail: true },
        },
      );
      return true;
    },
    close() {
      closing ??= queue.close();
      return closing;
    },
  };
}
