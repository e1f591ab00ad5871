import { performance } from 'node:perf_hooks';
import type { FleetIo, HeartbeatPhase } from './phase.js';
import { dueCount } from './schedule.js';
import type { RoundOutcome } from './types.js';

const SEND_TICK_MS = 5;

/** Round counts without the generator's usage and closes (the fleet adds those). */
export type RoundCounts = Omit<RoundOutcome, 'usage' | 'unexpectedCloses'>;

/**
 * One heartbeat round: every agent ready at the start sends one heartbeat, spread evenly over
 * `windowMs`; `run()` resolves once every one was answered or lost, or `timeoutMs` after the window.
 */
export class RoundPhase implements HeartbeatPhase {
  private readonly counts: RoundCounts = {
    sent: 0,
    replied: 0,
    unanswered: 0,
    badReplies: 0,
    latencyMs: [],
  };
  private agents: number[] = [];
  private issued = 0;
  private finish: (() => void) | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly io: FleetIo,
    readonly tag: number,
    private readonly windowMs: number,
    private readonly timeoutMs: number,
  ) {}

  run(): Promise<RoundCounts> {
    for (let k = 0; k < this.io.size; k++) if (this.io.isReady(k)) this.agents.push(k);
    return new Promise<RoundCounts>((resolve) => {
      this.finish = () => {
        clearTimeout(this.timer);
        this.finish = null;
        resolve(this.counts);
      };
      const started = performance.now();
      const tick = (): void => {
        const due = dueCount(this.agents.length, performance.now() - started, this.windowMs);
        while (this.issued < due) {
          const k = this.agents[this.issued++]!;
          if (this.io.sendHeartbeat(k, this.tag)) this.counts.sent++;
          else this.counts.unanswered++;
        }
        if (this.issued < this.agents.length) {
          setTimeout(tick, SEND_TICK_MS);
          return;
        }
        this.timer = setTimeout(() => {
          this.counts.unanswered = this.agents.length - this.counts.replied;
          this.finish?.();
        }, this.timeoutMs);
        this.check();
      };
      tick();
    });
  }

  onReply(_k: number, latencyMs: number, valid: boolean): void {
    this.counts.latencyMs.push(latencyMs);
    this.counts.replied++;
    if (!valid) this.counts.badReplies++;
    this.check();
  }

  onLost(): void {
    this.counts.unanswered++;
    this.check();
  }

  private check(): void {
    const { replied, unanswered } = this.counts;
    if (this.issued === this.agents.length && replied + unanswered === this.agents.length) this.finish?.();
  }
}
