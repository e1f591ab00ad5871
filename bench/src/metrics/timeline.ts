/**
 * A once-a-second timeline of a load generator's counters (connected agents, replies per second,
 * errors): `startTimeline(read)` samples `read()` at once and every interval until `stop()`, which
 * takes a last sample and returns the series. Used by every scenario that charts a run over time.
 */

/** Counters a timeline samples; monotonic except `connected`. */
export interface TimelineCounters {
  connected: number;
  received: number;
  errors: number;
}

/** Samples of one run; index i was taken `seconds[i]` after the start. */
export interface Timeline {
  seconds: number[];
  connected: number[];
  /** Replies received per second since the previous sample (0 at the first sample). */
  repliesPerSecond: number[];
  /** Errors so far (cumulative). */
  errors: number[];
}

export interface TimelineSampler {
  /** Takes a final sample, stops sampling and returns the timeline (idempotent). */
  stop(): Timeline;
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

export function startTimeline(
  read: () => TimelineCounters,
  intervalMs = 1000,
  now: () => number = () => performance.now(),
): TimelineSampler {
  const timeline: Timeline = { seconds: [], connected: [], repliesPerSecond: [], errors: [] };
  const started = now();
  let last = { at: started, received: read().received };
  const sample = (): void => {
    const at = now();
    const c = read();
    const elapsed = (at - last.at) / 1000;
    timeline.seconds.push(round((at - started) / 1000, 3));
    timeline.connected.push(c.connected);
    timeline.repliesPerSecond.push(elapsed > 0 ? round((c.received - last.received) / elapsed, 1) : 0);
    timeline.errors.push(c.errors);
    last = { at, received: c.received };
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  let stopped = false;
  return {
    stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        sample();
      }
      return timeline;
    },
  };
}

/** `[seconds, value]` points of one timeline column, for a line chart. */
export function timelinePoints(
  timeline: Timeline,
  column: 'connected' | 'repliesPerSecond' | 'errors',
): Array<readonly [number, number]> {
  return timeline.seconds.map((s, i) => [s, timeline[column][i] ?? 0] as const);
}
