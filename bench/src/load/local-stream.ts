import { performance } from 'node:perf_hooks';
import type { FleetIo } from './phase.js';
import { processUsageSince } from './process-usage.js';
import { StreamPhase } from './stream-phase.js';
import type { StreamOutcome } from './types.js';

const SEND_TICK_MS = 5;
const epochNow = (): number => performance.timeOrigin + performance.now();

/**
 * A {@link StreamPhase} driven by a timer in this process, with the process's CPU measured over
 * the window. `unexpectedCloses` reads the fleet's running count of closes it did not ask for.
 */
export class LocalStream {
  readonly phase: StreamPhase;
  private readonly timer: NodeJS.Timeout;
  private cpuStart: NodeJS.CpuUsage | null = null;
  private closesAtMark = 0;

  constructor(
    io: FleetIo,
    tag: number,
    intervalMs: number,
    jitter: number,
    private readonly unexpectedCloses: () => number,
  ) {
    this.phase = new StreamPhase(io, tag, {
      intervalMs,
      jitter,
      random: Math.random,
      clock: { now: () => performance.now(), epochNow },
    });
    this.phase.start();
    this.timer = setInterval(() => this.phase.tick(), SEND_TICK_MS);
  }

  mark(): void {
    this.cpuStart = process.cpuUsage();
    this.closesAtMark = this.unexpectedCloses();
    this.phase.mark();
  }

  /** Stops sending, waits up to `timeoutMs` for the replies still due, returns the window. */
  async stop(timeoutMs: number): Promise<StreamOutcome> {
    clearInterval(this.timer);
    this.phase.stopSending();
    const usage = processUsageSince(this.cpuStart ?? process.cpuUsage());
    await this.phase.settledOrTimeout(timeoutMs);
    return {
      ...this.phase.outcome(),
      unexpectedCloses: this.unexpectedCloses() - this.closesAtMark,
      usage,
    };
  }

  /** Stops the timer without waiting (the fleet is closing). */
  abort(): void {
    clearInterval(this.timer);
    this.phase.stopSending();
  }
}
