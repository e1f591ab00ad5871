import {
  presenceKeys,
  readLateSeen,
  removeLateSeen,
  type ScoredMember,
  scoredMembers,
} from '@opamp-fleet/presence';
import type { Redis } from 'ioredis';

/** Writes last-seen times (ms, Redis clock) of agents; must be idempotent and never move time back. */
export type LastSeenWriter = (ids: string[], lastSeenMs: number[]) => Promise<number>;

export interface HeartbeatFlusherOptions {
  /** A fail-fast client (commands fail while Redis is unreachable; the run fails and the next retries). */
  redis: Redis;
  /** Prefix of the presence keys, as the gateways use it. */
  keyPrefix: string;
  write: LastSeenWriter;
  /** Entries per Redis read and per write call. */
  chunkSize: number;
  /** Entries one run writes at most; the rest are left to the next run. */
  maxPerRun: number;
  /** Window behind the watermark read again, for scores written late (they are age-adjusted). */
  overlapMs: number;
}

/** What one run did. Times are ms since the Unix epoch on the Redis clock. */
export interface FlushRun {
  /** Entries read from the last-seen set (including those re-read in the overlap window). */
  read: number;
  /** Entries handed to the writer (re-read entries already written by this flusher are skipped). */
  written: number;
  /** Of those, entries taken from the late set (touches that landed late, see PresenceKeys.lateSeen). */
  late: number;
  /** Rows the writer reported as changed. */
  rowsChanged: number;
  /** Redis time at the start of the run minus the oldest score above the watermark; 0 when none. */
  lagMs: number;
  /** From the oldest newly written score to the end of the writes; null when nothing new was written. */
  delayMs: number | null;
  /** The watermark after the run (null while the set has never been flushed). */
  watermark: number | null;
  /** False when `maxPerRun` stopped the run before the end of the set. */
  complete: boolean;
}

/**
 * Copies last-seen times from the presence sorted set to Postgres, incrementally.
 *
 * Contract:
 * - A watermark (a score, kept in Redis next to the set) marks what is flushed. A run reads the
 *   entries scored above the watermark in score order, in chunks of `chunkSize`, up to `maxPerRun`
 *   of them, writes them, and only then moves the watermark to the highest score it wrote. A run
 *   that fails leaves the watermark alone, so the next run writes the same entries again (at least
 *   once; the writer is idempotent). Entries with one score are never split across runs.
 * - Scores can land late, slightly below the watermark (a gateway writes `TIME - age`): each run
 *   first re-reads the window of `overlapMs` behind its anchor, up to the watermark (not counted in
 *   `maxPerRun`), and writes what is new there. The anchor, kept next to the watermark, is the lower
 *   of the watermark and the Redis time at the start of the run that set it: a touch younger than
 *   LATE_TOUCH_AGE_MS (<= `overlapMs`) that lands during a run, behind the point that run has read
 *   to, scores above that run's start minus its age, so the next run re-reads it however far the
 *   run carried the watermark meanwhile (a long run on a loaded host reads touches seconds newer
 *   than its start). Entries this flusher already wrote with the same score are skipped;
 *   another process's flusher writes them again, which changes no row. A touch that lands later than
 *   that (a gateway's writes held up for LATE_TOUCH_AGE_MS or more) is also in the late set: each run
 *   starts by writing the late set's entries and removing them (unless a newer late score replaced
 *   one meanwhile), up to `maxPerRun`, whatever the watermark.
 * - Runs must not overlap (the heartbeat-flush queue runs one job at a time); if two did, the only
 *   harm is duplicate work.
 */
export class HeartbeatFlusher {
  private readonly lastSeenKey: string;
  private readonly lateSeenKey: string;
  readonly watermarkKey: string;
  readonly anchorKey: string;
  /** member -> score written, for scores within the window the next run re-reads. */
  private recent = new Map<string, number>();

  constructor(private readonly o: HeartbeatFlusherOptions) {
    const keys = presenceKeys(o.keyPrefix);
    this.lastSeenKey = keys.lastSeen;
    this.lateSeenKey = keys.lateSeen;
    this.watermarkKey = `${keys.lastSeen}:flushed`;
    this.anchorKey = `${keys.lastSeen}:flushed:anchor`;
  }

  /**
   * Redis time minus the oldest last-seen above the watermark, now (0 when everything is flushed):
   * how far Postgres is behind, whether or not flush runs are happening. Fails while Redis is down.
   */
  async currentLagMs(): Promise<number> {
    return (await this.position()).lagMs;
  }

  /** Redis time, the watermark, its anchor and the lag of the oldest entry above the watermark. */
  private async position(): Promise<{
    now: number;
    watermark: number | null;
    anchor: number | null;
    lagMs: number;
  }> {
    const [time, [stored, storedAnchor]] = await Promise.all([
      this.o.redis.time(),
      this.o.redis.mget(this.watermarkKey, this.anchorKey),
    ]);
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const watermark = stored == null ? null : Number(stored);
    // no anchor (written by an older version): the watermark itself
    const anchor = watermark === null ? null : Math.min(watermark, Number(storedAnchor ?? watermark));
    const oldest = await this.range(watermark === null ? '-inf' : `(${watermark}`, '+inf', 1);
    return { now, watermark, anchor, lagMs: oldest.length === 0 ? 0 : Math.max(0, now - oldest[0]!.score) };
  }

  async runOnce(): Promise<FlushRun> {
    const { maxPerRun, overlapMs } = this.o;
    const { now: startedAt, watermark, anchor, lagMs } = await this.position();
    const startedMono = performance.now();
    const above = watermark === null ? '-inf' : `(${watermark}`;

    const run: SweepState = { read: 0, written: 0, rowsChanged: 0, seen: new Map() };
    const late = await this.writeLate(run);
    // entries that landed late behind the watermark; bounded by the window, not by maxPerRun
    if (watermark !== null && anchor !== null && overlapMs > 0) {
      await this.sweep(run, `(${anchor - overlapMs}`, String(watermark), Number.POSITIVE_INFINITY);
    }
    const forward = await this.sweep(run, above, '+inf', maxPerRun);
    const highest = forward.top === null ? watermark : Math.max(watermark ?? forward.top, forward.top);
    const nextAnchor = highest === null ? null : Math.min(highest, startedAt);
    if (highest !== null && (highest !== watermark || nextAnchor !== anchor)) {
      await this.o.redis.mset(this.watermarkKey, String(highest), this.anchorKey, String(nextAnchor));
    }
    this.remember(run.seen, nextAnchor);
    const endedAt = startedAt + (performance.now() - startedMono);
    return {
      read: run.read,
      written: run.written,
      late,
      rowsChanged: run.rowsChanged,
      lagMs,
      delayMs: forward.oldest === null ? null : Math.max(0, endedAt - forward.oldest),
      watermark: highest,
      complete: forward.complete,
    };
  }

  /** Writes the late set's entries, chunk by chunk, and removes them; returns how many it wrote. */
  private async writeLate(run: SweepState): Promise<number> {
    const { chunkSize, maxPerRun } = this.o;
    let taken = 0;
    while (taken < maxPerRun) {
      const entries = await readLateSeen(
        this.o.redis,
        this.lateSeenKey,
        Math.min(chunkSize, maxPerRun - taken),
      );
      if (entries.length === 0) break;
      run.rowsChanged += await this.o.write(
        entries.map((e) => e.member),
        entries.map((e) => e.score),
      );
      await removeLateSeen(this.o.redis, this.lateSeenKey, entries);
      for (const e of entries) run.seen.set(e.member, e.score);
      taken += entries.length;
      run.read += entries.length;
      run.written += entries.length;
      if (entries.length < chunkSize) break;
    }
    return taken;
  }

  /**
   * Reads the entries scored within [min, max] in score order, chunk by chunk, until `budget`
   * entries were read or the range ends, and writes those not already written with that score.
   */
  private async sweep(
    run: SweepState,
    min: string,
    max: string,
    budget: number,
  ): Promise<{ top: number | null; oldest: number | null; complete: boolean }> {
    const { chunkSize } = this.o;
    let cursor = min;
    let read = 0;
    let top: number | null = null;
    let oldest: number | null = null;
    while (read < budget) {
      const limit = Math.min(chunkSize, budget - read);
      let entries = await this.range(cursor, max, limit);
      const complete = entries.length < limit;
      if (entries.length === 0) return { top, oldest, complete: true };
      if (!complete) {
        // the chunk may end inside a run of equal scores: take that score's entries whole
        const last = entries[entries.length - 1]!.score;
        entries = entries.filter((e) => e.score < last).concat(await this.range(String(last), String(last)));
      }
      read += entries.length;
      run.read += entries.length;
      // not written before with this score: by an earlier run, or from the late set in this one
      const fresh = entries.filter(
        (e) => this.recent.get(e.member) !== e.score && run.seen.get(e.member) !== e.score,
      );
      for (let i = 0; i < fresh.length; i += chunkSize) {
        const part = fresh.slice(i, i + chunkSize);
        run.rowsChanged += await this.o.write(
          part.map((e) => e.member),
          part.map((e) => e.score),
        );
      }
      run.written += fresh.length;
      for (const e of entries) run.seen.set(e.member, e.score);
      oldest ??= entries[0]!.score;
      top = entries[entries.length - 1]!.score;
      cursor = `(${top}`;
      if (complete) return { top, oldest, complete: true };
    }
    return { top, oldest, complete: false };
  }

  /** Keeps what was written within the window the next run re-reads (behind the new anchor). */
  private remember(seen: Map<string, number>, anchor: number | null): void {
    if (anchor === null) return;
    const floor = anchor - this.o.overlapMs;
    const next = new Map<string, number>();
    for (const [member, score] of this.recent) if (score > floor) next.set(member, score);
    for (const [member, score] of seen) if (score > floor) next.set(member, score);
    this.recent = next;
  }

  /** Entries scored within [min, max] (Redis range syntax), ascending; all of them without `limit`. */
  private async range(min: string, max: string, limit?: number): Promise<ScoredMember[]> {
    const key = this.lastSeenKey;
    const flat =
      limit === undefined
        ? await this.o.redis.zrange(key, min, max, 'BYSCORE', 'WITHSCORES')
        : await this.o.redis.zrange(key, min, max, 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES');
    return scoredMembers(flat);
  }
}

interface SweepState {
  read: number;
  written: number;
  rowsChanged: number;
  /** member -> score of every entry read in this run (late set included). */
  seen: Map<string, number>;
}
