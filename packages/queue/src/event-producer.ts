import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type AgentEvent,
  type EventBatch,
  JOBS,
  QUEUES,
  RETRY_BACKOFF_TYPE,
  retryDelayMs,
} from './catalog.js';
import { checkInt, QueueOptionError } from './errors.js';
import { EventBatcher, type PendingBatch } from './event-batcher.js';
import { sleep, withTimeout } from './timing.js';

/** A monotonic millisecond clock, e.g. `performance`. Only differences between readings matter. */
export interface MonotonicClock {
  now(): number;
}

/** Where the producer reports what happened. It never emits 'error' and never throws from its loop. */
export interface EventProducerObserver {
  /** One add call handed `batches` batches holding `events` events to Redis in `seconds`. */
  onAdded?(batches: number, events: number, seconds: number): void;
  /** An add call failed or timed out after `seconds`; its batches stay buffered and are retried. */
  onAddError?(err: unknown, seconds: number): void;
  /** `events` events were dropped: over `maxBuffered`, emitted after `close()`, or left at close. */
  onDropped?(events: number): void;
  /** BullMQ reported a connection or script error outside an add call. */
  onError?(err: unknown): void;
}

/** Options of BullMQ jobs the producer creates. */
export interface EventJobOptions {
  /** Attempts before a batch ends in the failed set. Default 100,000 (retries outlast any outage). */
  attempts?: number;
  /** Completed batch jobs kept (they deduplicate late re-adds of the same id). Default 1000. */
  keepCompleted?: number;
  /** Failed batch jobs kept for inspection. Default 10,000. */
  keepFailed?: number;
}

export interface EventProducerOptions {
  /** A client from `createQueueRedis({ role: 'producer' })`; the caller owns and closes it. */
  connection: Redis;
  /** BullMQ key prefix, see `queuePrefix`. */
  prefix: string;
  /** Identity of the emitting process (e.g. the gateway id), part of every job id. */
  producerId: string;
  /** Events per batch (one job). Default 500. */
  maxBatch?: number;
  /** Longest an event waits before its batch is cut. Default 100. */
  flushMs?: number;
  /** Most events held while Redis is slow or down; over it the oldest are dropped. Default 100,000. */
  maxBuffered?: number;
  /** Batches per add call (one addBulk round trip). Default 20. */
  maxBatchesPerAdd?: number;
  /** An add call slower than this counts as failed (its batches are re-added under the same ids). Default 5000. */
  addTimeoutMs?: number;
  /** Back-off between failed add calls: doubles from `retryBaseMs` up to `retryMaxMs`. Defaults 100 and 5000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long `close()` keeps trying to hand over what is buffered. Default 10,000. */
  closeTimeoutMs?: number;
  job?: EventJobOptions;
  /** Default `performance`. */
  clock?: MonotonicClock;
  observer?: EventProducerObserver;
}

/**
 * Batching producer of agent events (one BullMQ job per batch of many events).
 *
 * Contract:
 * - `emit` is synchronous and O(1) amortized; it never throws and never waits for Redis. Events are
 *   not validated here (the worker validates each batch).
 * - A batch is cut when it holds `maxBatch` events or its first event is `flushMs` old, and gets a
 *   deterministic job id (`<producerId>.<random instance id>.<seq>`). Adding is retried under the same
 *   id, so an add that timed out but reached Redis is not duplicated. Delivery to the workers is
 *   at least once (their writes are idempotent); order between batches is not guaranteed.
 * - At most one add call is in flight. While adds fail, everything stays buffered up to
 *   `maxBuffered` events; over it the oldest batch is dropped whole and counted.
 * - `flush()` cuts the open batch and resolves true once everything cut before it reached Redis,
 *   false when an add failed (the events stay buffered and are retried with back-off).
 * - `close()` stops the timers, keeps trying to hand over everything for up to `closeTimeoutMs`,
 *   drops what is left (counted), and closes its BullMQ queue (not the Redis client). Idempotent;
 *   resolves with the number of events dropped at close. Events emitted after `close()` are dropped.
 */
export interface EventProducer {
  emit(event: AgentEvent): void;
  flush(): Promise<boolean>;
  close(): Promise<number>;
  /** Events held and not yet in Redis. */
  readonly buffered: number;
  /** Events dropped since creation. */
  readonly dropped: number;
}

export function createEventProducer(options: EventProducerOptions): EventProducer {
  return new BullEventProducer(options);
}

const DEFAULT_ATTEMPTS = 100_000;

class BullEventProducer implements EventProducer {
  private readonly queue: Queue<EventBatch>;
  private readonly batcher: EventBatcher;
  private readonly clock: MonotonicClock;
  private readonly observer: EventProducerObserver;
  private readonly flushMs: number;
  private readonly maxBatchesPerAdd: number;
  private readonly addTimeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly closeTimeoutMs: number;
  private readonly jobOptions: {
    attempts: number;
    backoff: { type: string };
    removeOnComplete: { count: number };
    removeOnFail: { count: number };
  };
  private flushTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private kickScheduled = false;
  private sending: Promise<boolean> | null = null;
  private failures = 0;
  private closing: Promise<number> | null = null;
  private lateDrops = 0;

  constructor(o: EventProducerOptions) {
    if (o.connection === undefined || o.connection === null) {
      throw new QueueOptionError('connection is required');
    }
    if (typeof o.prefix !== 'string' || o.prefix.length === 0) {
      throw new QueueOptionError('prefix must be a non-empty string');
    }
    this.batcher = new EventBatcher({
      producerId: o.producerId,
      instance: randomBytes(6).toString('base64url'),
      maxBatch: o.maxBatch ?? 500,
      maxBuffered: o.maxBuffered ?? 100_000,
    });
    this.flushMs = checkInt('flushMs', o.flushMs ?? 100, 1);
    this.maxBatchesPerAdd = checkInt('maxBatchesPerAdd', o.maxBatchesPerAdd ?? 20, 1, 1000);
    this.addTimeoutMs = checkInt('addTimeoutMs', o.addTimeoutMs ?? 5000, 1);
    this.retryBaseMs = checkInt('retryBaseMs', o.retryBaseMs ?? 100, 1);
    this.retryMaxMs = checkInt('retryMaxMs', o.retryMaxMs ?? 5000, this.retryBaseMs);
    this.closeTimeoutMs = checkInt('closeTimeoutMs', o.closeTimeoutMs ?? 10_000, 0);
    this.jobOptions = {
      attempts: checkInt('job.attempts', o.job?.attempts ?? DEFAULT_ATTEMPTS, 1),
      backoff: { type: RETRY_BACKOFF_TYPE },
      removeOnComplete: { count: checkInt('job.keepCompleted', o.job?.keepCompleted ?? 1000, 0) },
      removeOnFail: { count: checkInt('job.keepFailed', o.job?.keepFailed ?? 10_000, 0) },
    };
    this.clock = o.clock ?? performance;
    this.observer = o.observer ?? {};
    this.queue = new Queue<EventBatch>(QUEUES.agentEvents, { connection: o.connection, prefix: o.prefix });
    this.queue.on('error', (err) => this.report(() => this.observer.onError?.(err)));
  }

  get buffered(): number {
    return this.batcher.buffered;
  }

  get dropped(): number {
    return this.batcher.dropped + this.lateDrops;
  }

  emit(event: AgentEvent): void {
    if (this.closing !== null) {
      this.lateDrops += 1;
      this.report(() => this.observer.onDropped?.(1));
      return;
    }
    if (this.batcher.push(event)) this.kick();
    this.reportDropped();
    if (this.batcher.openEvents > 0 && this.flushTimer === null) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        if (this.batcher.cut()) this.kick();
      }, this.flushMs);
      this.flushTimer.unref();
    }
  }

  flush(): Promise<boolean> {
    this.clearFlushTimer();
    this.batcher.cut();
    this.clearRetryTimer();
    return this.pump();
  }

  close(): Promise<number> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<number> {
    this.clearFlushTimer();
    this.clearRetryTimer();
    this.batcher.cut();
    const deadline = this.clock.now() + this.closeTimeoutMs;
    while (this.batcher.buffered > 0) {
      if (await this.pump()) continue;
      const left = deadline - this.clock.now();
      if (left <= 0) break;
      await sleep(Math.min(left, retryDelayMs(this.failures, this.retryBaseMs, this.retryMaxMs)));
      if (this.clock.now() >= deadline) break;
    }
    const lost = this.batcher.dropAll();
    this.reportDropped();
    await withTimeout(this.queue.close(), 5000).catch((err: unknown) =>
      this.report(() => this.observer.onError?.(err)),
    );
    return lost;
  }

  /**
   * Starts sending once the code running now is done (coalesced: the batches cut by one callback go
   * in one add), unless a back-off is pending or the producer is closing. A microtask, not
   * setImmediate: a burst of socket events (10,000 goodbyes at once) keeps Node in its poll phase
   * for as long as it lasts, and an immediate would wait for all of it before the first batch left.
   */
  private kick(): void {
    if (this.kickScheduled || this.retryTimer !== null || this.closing !== null) return;
    this.kickScheduled = true;
    queueMicrotask(() => {
      this.kickScheduled = false;
      if (this.retryTimer === null && this.closing === null) void this.pump();
    });
  }

  /** Sends every waiting batch; joins the send in flight. Never rejects. */
  private pump(): Promise<boolean> {
    if (this.sending !== null) {
      // wait for the running drain, then send what it did not (a failed or a newly cut batch)
      return this.sending.then((ok) => (ok && this.batcher.waitingBatches === 0 ? true : this.pump()));
    }
    const run = this.drain().finally(() => {
      this.sending = null;
    });
    this.sending = run;
    return run;
  }

  private async drain(): Promise<boolean> {
    while (this.batcher.waitingBatches > 0) {
      const batches = this.batcher.take(this.maxBatchesPerAdd);
      if (!(await this.send(batches))) {
        this.scheduleRetry();
        return false;
      }
    }
    return true;
  }

  private async send(batches: readonly PendingBatch[]): Promise<boolean> {
    const startedAt = this.clock.now();
    const jobs = batches.map((b) => ({
      name: JOBS.eventBatch,
      data: b.batch,
      opts: { ...this.jobOptions, jobId: b.jobId },
    }));
    try {
      await withTimeout(this.queue.addBulk(jobs), this.addTimeoutMs);
    } catch (err) {
      this.failures += 1;
      this.batcher.settle(batches, false);
      this.reportDropped();
      const seconds = (this.clock.now() - startedAt) / 1000;
      this.report(() => this.observer.onAddError?.(err, seconds));
      return false;
    }
    this.failures = 0;
    this.batcher.settle(batches, true);
    const events = batches.reduce((n, b) => n + b.batch.events.length, 0);
    const seconds = (this.clock.now() - startedAt) / 1000;
    this.report(() => this.observer.onAdded?.(batches.length, events, seconds));
    return true;
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null || this.closing !== null) return;
    const delay = retryDelayMs(this.failures, this.retryBaseMs, this.retryMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.pump();
    }, delay);
    this.retryTimer.unref();
  }

  private clearFlushTimer(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  private clearRetryTimer(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private reportDropped(): void {
    const n = this.batcher.takeDropped();
    if (n > 0) this.report(() => this.observer.onDropped?.(n));
  }

  /** Observer callbacks must not break the producer. */
  private report(call: () => void): void {
    try {
      call();
    } catch {
      // an observer's own failure is not the producer's to handle
    }
  }
}
