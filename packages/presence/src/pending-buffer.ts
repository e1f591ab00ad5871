/** One coalesced touch: when the agent was last seen (monotonic ms) and its newest sequence number. */
export interface PendingTouch {
  at: number;
  seq: number | undefined;
  /**
   * The seq the session hash must hold for `seq` to be written (see `PresenceWriter.touch`); only
   * with a `seq`. A run of checked touches keeps the first one's.
   */
  expectedSeq: number | undefined;
}

export type PendingEntry = readonly [agentId: string, touch: PendingTouch];

/**
 * The writer's buffer: at most one entry per agent, kept in least-recently-touched-first order, so
 * memory is bounded by the number of agents held and, over `maxPending`, the stalest entries go first.
 * Single-threaded by design (one event loop); no operation awaits.
 */
export class PendingBuffer {
  private entries = new Map<string, PendingTouch>();
  private droppedSinceTake = 0;
  private droppedTotal = 0;

  constructor(private readonly maxPending: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Total entries dropped over `maxPending` since creation. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /**
   * Records a touch; the newest time wins (a touch dated before the buffered one keeps its time), a
   * touch without seq keeps the seq (and check) of the one it replaces. A checked touch following
   * a checked one keeps the older check (the hash must still hold what the first one expected); a
   * seq without a check (written by its own authoritative store) drops the check. O(1).
   */
  touch(agentId: string, at: number, seq: number | undefined, expectedSeq?: number): void {
    const prev = this.entries.get(agentId);
    if (prev === undefined) {
      this.entries.set(agentId, { at, seq, expectedSeq: seq === undefined ? undefined : expectedSeq });
      this.enforceCap();
      return;
    }
    this.entries.delete(agentId);
    if (at > prev.at) prev.at = at;
    if (seq !== undefined) {
      prev.expectedSeq = expectedSeq === undefined ? undefined : (prev.expectedSeq ?? expectedSeq);
      prev.seq = seq;
    }
    this.entries.set(agentId, prev);
  }

  /** Removes and returns every entry, least recently touched first. */
  drain(): PendingEntry[] {
    const out = [...this.entries];
    this.entries = new Map();
    return out;
  }

  /**
   * Puts back entries whose write failed, ahead of the current ones (they are older). An entry that
   * was touched again meanwhile keeps the newer touch, and inherits the failed seq if it has none
   * (and the failed check, which comes first, when both are checked).
   */
  restore(failed: readonly PendingEntry[]): void {
    if (failed.length === 0) return;
    const current = this.entries;
    this.entries = new Map();
    for (const [agentId, touch] of failed) {
      const newer = current.get(agentId);
      if (newer === undefined) this.entries.set(agentId, touch);
      else if (newer.seq === undefined) {
        newer.seq = touch.seq;
        newer.expectedSeq = touch.expectedSeq;
      } else if (newer.expectedSeq !== undefined && touch.expectedSeq !== undefined) {
        newer.expectedSeq = touch.expectedSeq;
      }
    }
    for (const [agentId, touch] of current) this.entries.set(agentId, touch);
    this.enforceCap();
  }

  /** Returns how many entries were dropped since the previous call. */
  takeDropped(): number {
    const n = this.droppedSinceTake;
    this.droppedSinceTake = 0;
    return n;
  }

  private enforceCap(): void {
    while (this.entries.size > this.maxPending) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.droppedSinceTake++;
      this.droppedTotal++;
    }
  }
}
