import { DueHeap } from './due-heap.js';
import type { FleetIo, HeartbeatPhase } from './phase.js';
import { jitteredInterval } from './schedule.js';
import type { StreamOutcome } from './types.js';

export interface StreamClock {
  /** Monotonic milliseconds (performance.now()). */
  now(): number;
  /** Milliseconds since the Unix epoch, comparable with Redis and Postgres times on this host. */
  epochNow(): number;
}

export interface StreamOptions {
  intervalMs: number;
  /** Each interval is scaled by a uniform factor within 1 ± jitter. */
  jitter: number;
  random: () => number;
  clock: StreamClock;
}

/** Stream counts without the generator's usage and closes (the fleet adds those). */
export type StreamCounts = Omit<StreamOutcome, 'usage' | 'unexpectedCloses'>;

/**
 * A steady heartbeat stream: every agent ready at `start()` heartbeats every interval (jittered per
 * send), the first sends spread uniformly over one interval. An agent whose previous heartbeat is
 * still unanswered skips a due send (counted), as a real agent has one request in flight. Only sends
 * between `mark()` and `stopSending()` are measured; every answered heartbeat updates the agent's
 * last-answered send time. The caller drives `tick()` (a timer in production, a fake clock in tests).
 */
export class StreamPhase implements HeartbeatPhase {
  private readonly heap: DueHeap;
  private readonly pending: Uint8Array;
  private readonly measured: Uint8Array;
  private readonly sentEpoch: Float64Array;
  private readonly lastAnswered: Float64Array;
  private readonly counts: Omit<StreamCounts, 'lastAnswered'>;
  private windowOpen = false;
  private stopped = false;
  private lost = 0;
  private settled: (() => void) | null = null;

  constructor(
    private readonly io: FleetIo,
    readonly tag: number,
    private readonly o: StreamOptions,
  ) {
    this.heap = new DueHeap(io.size);
    this.pending = new Uint8Array(io.size);
    this.measured = new Uint8Array(io.size);
    this.sentEpoch = new Float64Array(io.size);
    this.lastAnswered = new Float64Array(io.size);
    this.counts = {
      sent: 0,
      replied: 0,
      unanswered: 0,
      skippedInFlight: 0,
      badReplies: 0,
      latencyMs: [],
      sendLagMs: [],
      windowStartedAt: 0,
      windowEndedAt: 0,
    };
  }

  start(): void {
    const now = this.o.clock.now();
    for (let k = 0; k < this.io.size; k++) {
      if (this.io.isReady(k)) this.heap.push(now + this.o.random() * this.o.intervalMs, k);
    }
  }

  /** Sends every heartbeat due by now and schedules each agent's next one. */
  tick(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    while (this.heap.peekTime() <= now) {
      const due = this.heap.peekTime();
      const k = this.heap.pop();
      if (!this.io.isReady(k)) continue; // its socket closed: it leaves the stream
      if (this.pending[k] === 1) {
        if (this.windowOpen) this.counts.skippedInFlight++;
      } else if (this.io.sendHeartbeat(k, this.tag)) {
        this.pending[k] = 1;
        this.sentEpoch[k] = this.o.clock.epochNow();
        this.measured[k] = this.windowOpen ? 1 : 0;
        if (this.windowOpen) {
          this.counts.sent++;
          this.counts.sendLagMs.push(now - due);
        }
      } else continue;
      this.heap.push(due + jitteredInterval(this.o.intervalMs, this.o.jitter, this.o.random), k);
    }
  }

  /** Opens the measured window. */
  mark(): void {
    this.windowOpen = true;
    this.counts.windowStartedAt = this.o.clock.epochNow();
  }

  /** Stops sending; `settledOrTimeout` then waits for the replies to measured sends. */
  stopSending(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.windowOpen = false;
    this.counts.windowEndedAt = this.o.clock.epochNow();
  }

  /** Measured sends still awaiting a reply. */
  outstanding(): number {
    return this.counts.sent - this.counts.replied - this.lost;
  }

  /** Resolves once sending stopped and no measured send awaits a reply, or after `timeoutMs`. */
  settledOrTimeout(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.settled = null;
        resolve();
      }, timeoutMs);
      this.settled = () => {
        clearTimeout(timer);
        this.settled = null;
        resolve();
      };
      this.checkSettled();
    });
  }

  onReply(k: number, latencyMs: number, valid: boolean): void {
    this.pending[k] = 0;
    if (valid) this.lastAnswered[k] = this.sentEpoch[k]!;
    if (this.measured[k] === 1) {
      this.measured[k] = 0;
      this.counts.replied++;
      this.counts.latencyMs.push(latencyMs);
      if (!valid) this.counts.badReplies++;
      this.checkSettled();
    }
  }

  onLost(k: number): void {
    this.pending[k] = 0;
    if (this.measured[k] === 1) {
      this.measured[k] = 0;
      this.lost++;
      this.checkSettled();
    }
  }

  /** The window's counts; measured sends without a reply by now count as unanswered. */
  outcome(): StreamCounts {
    const ids: string[] = [];
    const sentAt: number[] = [];
    for (let k = 0; k < this.io.size; k++) {
      if (this.lastAnswered[k]! > 0) {
        ids.push(this.io.agentId(k));
        sentAt.push(this.lastAnswered[k]!);
      }
    }
    return {
      ...this.counts,
      unanswered: this.counts.sent - this.counts.replied,
      lastAnswered: { ids, sentAt },
    };
  }

  private checkSettled(): void {
    if (this.stopped && this.outstanding() === 0) this.settled?.();
  }
}
