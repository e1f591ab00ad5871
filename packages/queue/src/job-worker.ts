import { randomUUID } from 'node:crypto';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type QueueName, retryDelayMs } from './catalog.js';
import { CloseTimeoutError, checkInt, PermanentJobError, QueueOptionError } from './errors.js';
import type { MonotonicClock } from './event-producer.js';

/** How a job attempt ended, as reported to {@link JobWorkerObserver.onProcessed}. */
export type JobOutcome = 'completed' | 'retry' | 'permanent' | 'exhausted';

/** Where a worker reports what happened. It never emits 'error' and never throws from its loop. */
export interface JobWorkerObserver {
  /** An attempt ended after `seconds`; `err` is set unless it completed. */
  onProcessed?(queue: QueueName, outcome: JobOutcome, seconds: number, err?: unknown): void;
  /** A job of a dead or stuck worker was found stalled and moved back to wait (or failed). */
  onStalled?(queue: QueueName, jobId: string): void;
  /** A BullMQ or Redis error outside a job (connection lost, lock renewal failed, ...). */
  onError?(queue: QueueName, err: unknown): void;
}

/** Job counts by state, as reported by BullMQ. */
export type JobCounts = Record<'wait' | 'prioritized' | 'active' | 'delayed' | 'failed', number>;

export interface JobWorkerOptions {
  /** A client with `maxRetriesPerRequest: null` (`createQueueRedis({ role: 'worker' })`); the caller owns it. */
  connection: Redis;
  /** BullMQ key prefix, see `queuePrefix`. */
  prefix: string;
  /** Jobs run in parallel by this worker. Default 4. */
  concurrency?: number;
  /** Job lock; renewed every half of it while the job runs. Default 30,000. */
  lockDurationMs?: number;
  /** Period of the check that re-queues jobs of dead workers. Default 30,000. */
  stalledIntervalMs?: number;
  /** Stalls after which a job is failed instead of re-queued (a job that kills its worker). Default 3. */
  maxStalledCount?: number;
  /** Retry delay of a failed attempt: doubles from `retryBaseMs` up to `retryMaxMs`. Defaults 1000, 30,000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** `close()` waits this long for running jobs, then gives up waiting (see `close`). Default 25,000. */
  closeTimeoutMs?: number;
  /** Not alive when jobs wait and this worker started or finished none for this long. Default 60,000. */
  stuckAfterMs?: number;
  /** Shown on the jobs this worker processes. */
  name?: string;
  /** Default `performance`. */
  clock?: MonotonicClock;
  observer?: JobWorkerObserver;
}

/**
 * Taking further waiting jobs into the one a worker slot runs, to handle them together (e.g. many
 * small event batches in one transaction): see {@link createJobWorker}.
 */
export interface CoalesceOptions<T> {
  /** No further job is taken once the group holds this many items (a soft limit: a job is whole). */
  maxItems: number;
  /** Items of a payload (the events of a batch). */
  size(payload: T): number;
  /** Handles the payloads of several jobs at once; must leave what handling each one would. */
  handleMany(payloads: T[], jobs: Job[]): Promise<void>;
}

/** Most jobs one group takes besides the one that started it. */
const MAX_EXTRA_JOBS = 100;

/**
 * A BullMQ worker of one queue.
 *
 * Contract:
 * - Delivery is at least once: a job whose worker dies is re-run by another worker once its lock
 *   expires. Handlers must be idempotent. Up to `concurrency` jobs run at once, in no fixed order.
 * - A handler that throws {@link PermanentJobError} (or whose payload does not validate) fails the
 *   job at once; any other error retries it with capped exponential back-off.
 * - With `coalesce`, a slot that starts a job first takes further waiting jobs (without blocking, up
 *   to `maxItems` items) and hands them all to `handleMany`. Success completes every job of the group;
 *   a retryable error retries every one (each with its own attempts and back-off); a
 *   {@link PermanentJobError} runs each job on its own through the single handler, so one bad payload
 *   fails only its own job. A job taken while the worker closes, or whose worker dies, is re-run
 *   elsewhere once its lock expires (at least once, as any job).
 * - Liveness is judged by progress, not by `isRunning()` alone: `checkLiveness()` reports not alive
 *   when runnable jobs have waited for `stuckAfterMs` (across checks) and this worker started or
 *   finished none in that time (see {@link isAlive}).
 * - `close()` stops taking jobs and waits for running ones up to `closeTimeoutMs`; past it, it
 *   reports a {@link CloseTimeoutError} and resolves anyway (the process should then exit: its
 *   unfinished jobs are re-run elsewhere once their locks expire). Idempotent; it never closes the
 *   Redis client.
 */
export interface JobWorker {
  readonly queueName: QueueName;
  /** Result of the last `checkLiveness()` (true before the first). */
  readonly alive: boolean;
  /** Asks Redis for the job counts and updates `alive`; rejects when Redis cannot answer. */
  checkLiveness(): Promise<{ alive: boolean; counts: JobCounts }>;
  close(): Promise<void>;
}

/**
 * Liveness rule of {@link JobWorker.checkLiveness}, apart for testing: not alive when the loop
 * stopped, or when runnable jobs have waited (since `waitingMs` ago, as seen by earlier checks) and
 * the worker started or finished none (for `idleMs`), both for longer than `stuckAfterMs`. Counting
 * from the first check that saw jobs waiting keeps a worker that was idle, or cut off from Redis,
 * from looking stuck the moment work arrives.
 */
export function isAlive(o: {
  running: boolean;
  runnable: number;
  idleMs: number;
  waitingMs: number;
  stuckAfterMs: number;
}): boolean {
  if (!o.running) return false;
  return !(o.runnable > 0 && Math.min(o.idleMs, o.waitingMs) > o.stuckAfterMs);
}

/**
 * A worker of `queueName`. `globalConcurrency` is the queue's cluster-wide limit of active jobs, if
 * one is set: waiting jobs only count against liveness while fewer are active.
 */
export function createJobWorker<T>(
  queueName: QueueName,
  o: JobWorkerOptions,
  parse: (data: unknown) => T,
  handler: (payload: T, job: Job) => Promise<void>,
  globalConcurrency = Number.POSITIVE_INFINITY,
  coalesce?: CoalesceOptions<T>,
): JobWorker {
  return new BullJobWorker(queueName, o, parse, handler, globalConcurrency, coalesce);
}

/** A job taken into a group, with the token that holds its lock. */
interface Taken<T> {
  job: Job;
  payload: T;
  token: string;
}

class BullJobWorker<T> implements JobWorker {
  private readonly worker: Worker;
  /** Takes the further jobs of a group (no processor of its own; null without `coalesce`). */
  private readonly fetcher: Worker | null = null;
  private readonly tokenPrefix = `${randomUUID()}:`;
  private groups = 0;
  private readonly queue: Queue;
  private readonly clock: MonotonicClock;
  private readonly observer: JobWorkerObserver;
  private readonly closeTimeoutMs: number;
  private readonly stuckAfterMs: number;
  private lastProgressAt: number;
  private closing: Promise<void> | null = null;
  private isAliveNow = true;
  /** When a liveness check first saw runnable jobs (null when the last check saw none). */
  private waitingSince: number | null = null;

  constructor(
    readonly queueName: QueueName,
    o: JobWorkerOptions,
    private readonly parse: (data: unknown) => T,
    private readonly handler: (payload: T, job: Job) => Promise<void>,
    private readonly globalConcurrency: number,
    private readonly coalesce?: CoalesceOptions<T>,
  ) {
    if (o.connection === undefined || o.connection === null) {
      throw new QueueOptionError('connection is required');
    }
    if (typeof o.prefix !== 'string' || o.prefix.length === 0) {
      throw new QueueOptionError('prefix must be a non-empty string');
    }
    const concurrency = checkInt('concurrency', o.concurrency ?? 4, 1, 1000);
    const lockDuration = checkInt('lockDurationMs', o.lockDurationMs ?? 30_000, 1000);
    const stalledInterval = checkInt('stalledIntervalMs', o.stalledIntervalMs ?? 30_000, 500);
    const maxStalledCount = checkInt('maxStalledCount', o.maxStalledCount ?? 3, 0);
    const retryBase = checkInt('retryBaseMs', o.retryBaseMs ?? 1000, 1);
    const retryMax = checkInt('retryMaxMs', o.retryMaxMs ?? 30_000, retryBase);
    this.closeTimeoutMs = checkInt('closeTimeoutMs', o.closeTimeoutMs ?? 25_000, 0);
    this.stuckAfterMs = checkInt('stuckAfterMs', o.stuckAfterMs ?? 60_000, 1);
    this.clock = o.clock ?? performance;
    this.observer = o.observer ?? {};
    this.lastProgressAt = this.clock.now();
    const workerOptions = {
      connection: o.connection,
      prefix: o.prefix,
      concurrency,
      lockDuration,
      stalledInterval,
      maxStalledCount,
      ...(o.name === undefined ? {} : { name: o.name }),
      settings: {
        // called for backoff types BullMQ does not know itself: RETRY_BACKOFF_TYPE (and any other
        // custom type, rather than failing the job over its retry timing)
        backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade, retryBase, retryMax),
      },
    };
    this.worker = new Worker(queueName, (job: Job) => this.process(job), workerOptions);
    this.worker.on('error', (err) => this.report(() => this.observer.onError?.(queueName, err)));
    this.worker.on('stalled', (jobId) => this.report(() => this.observer.onStalled?.(queueName, jobId)));
    if (coalesce) {
      checkInt('coalesce.maxItems', coalesce.maxItems, 1);
      // its jobs retry through its settings (the back-off strategy) when moved to failed
      this.fetcher = new Worker(queueName, null, { ...workerOptions, autorun: false });
      this.fetcher.on('error', (err) => this.report(() => this.observer.onError?.(queueName, err)));
    }
    this.queue = new Queue(queueName, { connection: o.connection, prefix: o.prefix });
    this.queue.on('error', (err) => this.report(() => this.observer.onError?.(queueName, err)));
  }

  get alive(): boolean {
    return this.isAliveNow;
  }

  async checkLiveness(): Promise<{ alive: boolean; counts: JobCounts }> {
    const raw = await this.queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed');
    const counts: JobCounts = {
      wait: raw.wait ?? 0,
      prioritized: raw.prioritized ?? 0,
      active: raw.active ?? 0,
      delayed: raw.delayed ?? 0,
      failed: raw.failed ?? 0,
    };
    const now = this.clock.now();
    // jobs held back by the queue's global limit are not this worker's to take
    const runnable = counts.active < this.globalConcurrency ? counts.wait + counts.prioritized : 0;
    this.waitingSince = runnable > 0 ? (this.waitingSince ?? now) : null;
    if (this.closing === null) {
      this.isAliveNow = isAlive({
        running: this.worker.isRunning(),
        runnable,
        idleMs: now - this.lastProgressAt,
        waitingMs: now - (this.waitingSince ?? now),
        stuckAfterMs: this.stuckAfterMs,
      });
    }
    return { alive: this.isAliveNow, counts };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const graceful = Promise.all([this.worker.close(), this.fetcher?.close()]);
    graceful.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.closeTimeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (timedOut) {
      // BullMQ cannot turn a graceful close into a forced one: stop waiting. The process is about to
      // exit; its unfinished jobs stall and are re-run by other workers once their locks expire.
      const err = new CloseTimeoutError(`jobs still running after ${this.closeTimeoutMs} ms`);
      this.report(() => this.observer.onError?.(this.queueName, err));
    }
    await this.queue
      .close()
      .catch((err: unknown) => this.report(() => this.observer.onError?.(this.queueName, err)));
  }

  private async process(job: Job): Promise<void> {
    const startedAt = this.clock.now();
    this.lastProgressAt = startedAt;
    let payload: T;
    try {
      payload = this.parse(job.data);
    } catch (err) {
      this.lastProgressAt = this.clock.now();
      this.processed('permanent', startedAt, err);
      throw invalidPayload(job, err);
    }
    const extras = this.coalesce ? await this.takeMore(this.coalesce, payload) : [];
    if (extras.length === 0) return this.runOne(job, payload, startedAt);
    try {
      await this.coalesce!.handleMany(
        [payload, ...extras.map((e) => e.payload)],
        [job, ...extras.map((e) => e.job)],
      );
    } catch (err) {
      if (err instanceof PermanentJobError) {
        // one payload is bad: each job on its own, so the others still land
        await Promise.all(extras.map((e) => this.runTaken(e)));
        return this.runOne(job, payload, startedAt);
      }
      this.lastProgressAt = this.clock.now();
      await Promise.all(extras.map((e) => this.failTaken(e, err, startedAt)));
      this.processed(outcomeOf(job, err), startedAt, err);
      throw err;
    }
    this.lastProgressAt = this.clock.now();
    await Promise.all(extras.map((e) => this.completeTaken(e, startedAt)));
    this.processed('completed', startedAt);
  }

  /** One job through the single handler, as the worker runs it (throws to fail or retry it). */
  private async runOne(job: Job, payload: T, startedAt: number): Promise<void> {
    try {
      await this.handler(payload, job);
    } catch (err) {
      this.lastProgressAt = this.clock.now();
      this.processed(outcomeOf(job, err), startedAt, err);
      throw failureOf(err);
    }
    this.lastProgressAt = this.clock.now();
    this.processed('completed', startedAt);
  }

  /** Further waiting jobs, without blocking, until the group holds `maxItems` items. */
  private async takeMore(c: CoalesceOptions<T>, first: T): Promise<Taken<T>[]> {
    const taken: Taken<T>[] = [];
    if (this.closing !== null || this.fetcher === null) return taken;
    const token = `${this.tokenPrefix}${++this.groups}`;
    let items = c.size(first);
    while (items < c.maxItems && taken.length < MAX_EXTRA_JOBS) {
      let job: Job | undefined;
      try {
        job = await this.fetcher.getNextJob(token, { block: false });
      } catch (err) {
        this.report(() => this.observer.onError?.(this.queueName, err));
        break;
      }
      if (!job) break;
      try {
        const payload = this.parse(job.data);
        taken.push({ job, payload, token });
        items += c.size(payload);
      } catch (err) {
        await this.settleTaken(job, token, invalidPayload(job, err));
        this.processed('permanent', this.clock.now(), err);
      }
    }
    return taken;
  }

  /** A taken job through the single handler, completed or failed by its token. */
  private async runTaken(e: Taken<T>): Promise<void> {
    const startedAt = this.clock.now();
    try {
      await this.handler(e.payload, e.job);
    } catch (err) {
      await this.failTaken(e, err, startedAt);
      return;
    }
    await this.completeTaken(e, startedAt);
  }

  private async completeTaken(e: Taken<T>, startedAt: number): Promise<void> {
    try {
      await e.job.moveToCompleted(undefined, e.token, false);
      this.processed('completed', startedAt);
    } catch (err) {
      // its lock expired meanwhile: another worker runs it again (idempotent)
      this.report(() => this.observer.onError?.(this.queueName, err));
    }
  }

  /** Fails a taken job as the worker would: at once when permanent, else with its back-off. */
  private async failTaken(e: Taken<T>, err: unknown, startedAt: number): Promise<void> {
    await this.settleTaken(e.job, e.token, failureOf(err));
    this.processed(outcomeOf(e.job, err), startedAt, err);
  }

  private async settleTaken(job: Job, token: string, err: Error): Promise<void> {
    try {
      await job.moveToFailed(err, token, false);
    } catch (moveErr) {
      // its lock expired meanwhile: it stalls and is re-run elsewhere
      this.report(() => this.observer.onError?.(this.queueName, moveErr));
    }
  }

  private processed(outcome: JobOutcome, startedAt: number, err?: unknown): void {
    const seconds = (this.clock.now() - startedAt) / 1000;
    this.report(() => this.observer.onProcessed?.(this.queueName, outcome, seconds, err));
  }

  /** Observer callbacks must not break the worker. */
  private report(call: () => void): void {
    try {
      call();
    } catch {
      // an observer's own failure is not the worker's to handle
    }
  }
}

function outcomeOf(job: Job, err: unknown): JobOutcome {
  if (err instanceof PermanentJobError) return 'permanent';
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1) ? 'exhausted' : 'retry';
}

function invalidPayload(job: Job, err: unknown): UnrecoverableError {
  return new UnrecoverableError(`invalid ${job.name} payload: ${messageOf(err)}`);
}

/** What a job fails with: at once (UnrecoverableError) for a PermanentJobError, else for a retry. */
function failureOf(err: unknown): Error {
  if (err instanceof PermanentJobError) return new UnrecoverableError(messageOf(err));
  return err instanceof Error ? err : new Error(String(err));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
