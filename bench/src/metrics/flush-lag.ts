/** One scrape of one worker: how many flush runs it finished and its lag gauge. */
export interface WorkerFlushReading {
  /** Completed heartbeat flush runs (the flush duration histogram's count). */
  runs: number;
  /** opamp_worker_heartbeat_flush_lag_seconds, as set at the start of its latest run. */
  lagSeconds: number;
}

/**
 * The cluster's current flush lag from per-worker scrapes. Each worker's gauge holds the lag seen at
 * the start of ITS latest run, so a worker that has not flushed for a while holds a stale value;
 * only the one heartbeat flush job runs at a time, on any worker. The current lag is therefore the
 * gauge of the workers that finished a run since the previous scrape (the largest, when several
 * did), else the previous current lag.
 */
export class FlushLagTracker {
  private runs: number[] = [];
  private current: number | null = null;

  /**
   * Takes one scrape of every worker (same order each time; null for a worker whose scrape failed)
   * and returns the current lag in seconds, or null before any worker has finished a run.
   */
  observe(readings: ReadonlyArray<WorkerFlushReading | null>): number | null {
    let fresh: number | null = null;
    readings.forEach((reading, i) => {
      if (reading === null) return;
      const previous = this.runs[i] ?? 0;
      if (reading.runs > previous && Number.isFinite(reading.lagSeconds)) {
        fresh = fresh === null ? reading.lagSeconds : Math.max(fresh, reading.lagSeconds);
      }
      this.runs[i] = Math.max(previous, reading.runs);
    });
    if (fresh !== null) this.current = fresh;
    return this.current;
  }
}
