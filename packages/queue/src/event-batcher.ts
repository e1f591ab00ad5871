import type { AgentEvent, EventBatch } from './catalog.js';
import { checkInt, QueueOptionError } from './errors.js';

/** A cut batch with the job id it keeps across every add attempt. */
export interface PendingBatch {
  readonly jobId: string;
  readonly batch: EventBatch;
}

export interface EventBatcherOptions {
  /** Shown in job ids and payloads (e.g. the gateway id). ':' is replaced, BullMQ forbids it in ids. */
  producerId: string;
  /** Distinguishes this producer instance from earlier ones with the same producerId (a restart). */
  instance: string;
  maxBatch: number;
  maxBuffered: number;
}

/**
 * The buffer of an event producer, without timers or I/O.
 *
 * Events are appended to an open batch; a batch is cut when it reaches `maxBatch` events or when
 * `cut()` is called, and gets its job id then (`<producerId>.<instance>.<seq>`, seq counting up from
 * 0), so a retried add of the same batch is deduplicated by BullMQ. Cut batches wait in FIFO order
 * until `take()` hands them out; `settle(…, false)` puts them back at the front, keeping their ids.
 *
 * Bound: open and waiting events together never exceed `maxBuffered` (handed-out batches come on
 * top until settled, so memory holds at most `maxBuffered` plus one add call). Over it the oldest
 * waiting batch is dropped whole (then, if none waits, the oldest open events): after a failed add
 * the batches put back are the oldest. Drops are counted and read with `takeDropped()`.
 */
export class EventBatcher {
  private readonly producerId: string;
  private readonly idPrefix: string;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;
  private open: AgentEvent[] = [];
  private readonly waiting: PendingBatch[] = [];
  private waitingEvents = 0;
  private inFlightEvents = 0;
  private nextSeq = 0;
  private droppedSinceTake = 0;
  private droppedTotal = 0;

  constructor(o: EventBatcherOptions) {
    if (typeof o.producerId !== 'string' || o.producerId.length === 0) {
      throw new QueueOptionError('producerId must be a non-empty string');
    }
    if (!/^[A-Za-z0-9_-]+$/.test(o.instance)) {
      throw new QueueOptionError('instance must be a non-empty string of [A-Za-z0-9_-]');
    }
    this.producerId = o.producerId;
    this.idPrefix = `${o.producerId.replaceAll(':', '_')}.${o.instance}`;
    this.maxBatch = checkInt('maxBatch', o.maxBatch, 1, 10_000);
    this.maxBuffered = checkInt('maxBuffered', o.maxBuffered, this.maxBatch);
  }

  /** Events held: open, waiting and handed out but not settled. */
  get buffered(): number {
    return this.open.length + this.waitingEvents + this.inFlightEvents;
  }

  /** Events in the open (not yet cut) batch. */
  get openEvents(): number {
    return this.open.length;
  }

  /** Cut batches waiting to be taken. */
  get waitingBatches(): number {
    return this.waiting.length;
  }

  /** Events dropped over the bound since creation. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Appends an event; returns true when this cut a full batch. O(1) amortized. */
  push(event: AgentEvent): boolean {
    this.open.push(event);
    const cut = this.open.length >= this.maxBatch && this.cut();
    this.enforceBound();
    return cut;
  }

  /** Cuts the open batch if it holds any event; returns whether it did. */
  cut(): boolean {
    if (this.open.length === 0) return false;
    const events = this.open;
    this.open = [];
    const seq = this.nextSeq++;
    this.waiting.push({
      jobId: `${this.idPrefix}.${seq}`,
      batch: { v: 1, producerId: this.producerId, seq, events },
    });
    this.waitingEvents += events.length;
    return true;
  }

  /** Hands out up to `maxBatches` waiting batches, oldest first. Settle each with `settle`. */
  take(maxBatches: number): PendingBatch[] {
    const out = this.waiting.splice(0, maxBatches);
    const n = countEvents(out);
    this.waitingEvents -= n;
    this.inFlightEvents += n;
    return out;
  }

  /** Ends an add attempt: delivered batches are forgotten, others go back to the front. */
  settle(batches: readonly PendingBatch[], delivered: boolean): void {
    const n = countEvents(batches);
    this.inFlightEvents -= n;
    if (delivered) return;
    this.waiting.unshift(...batches);
    this.waitingEvents += n;
    this.enforceBound();
  }

  /** Drops everything held (e.g. when a close deadline passed) and counts it as dropped. */
  dropAll(): number {
    const n = this.open.length + this.waitingEvents;
    this.open = [];
    this.waiting.length = 0;
    this.waitingEvents = 0;
    this.countDropped(n);
    return n;
  }

  /** Events dropped since the previous call. */
  takeDropped(): number {
    const n = this.droppedSinceTake;
    this.droppedSinceTake = 0;
    return n;
  }

  private enforceBound(): void {
    while (this.open.length + this.waitingEvents > this.maxBuffered) {
      const oldest = this.waiting.shift();
      if (oldest !== undefined) {
        this.waitingEvents -= oldest.batch.events.length;
        this.countDropped(oldest.batch.events.length);
        continue;
      }
      const excess = this.open.length - this.maxBuffered;
      this.open.splice(0, excess);
      this.countDropped(excess);
    }
  }

  private countDropped(n: number): void {
    this.droppedSinceTake += n;
    this.droppedTotal += n;
  }
}

function countEvents(batches: readonly PendingBatch[]): number {
  let n = 0;
  for (const b of batches) n += b.batch.events.length;
  return n;
}
