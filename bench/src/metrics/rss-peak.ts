/**
 * Peak resident memory of a group of server processes over a stretch of a run:
 * `startRssPeak(pids)` reads every process's RSS at once and every interval until `stop()`, which
 * takes a last reading. A reading before or after a phase misses what a process grows to within it
 * (a gateway's heap while Redis and Postgres fall behind); a memory limit is hit by the peak.
 */
import { readRssBytes } from './proc.js';

export interface RssPeak {
  /** Readings taken (one per interval, plus the first and the last). */
  samples: number;
  /** The largest sum over the processes at one reading. */
  peakTotalBytes: number;
  /** The largest single process at any reading. */
  peakProcessBytes: number;
  /** The sum at the last reading (when `stop()` was called). */
  lastTotalBytes: number;
}

export interface RssPeakSampler {
  /** Takes a last reading, stops sampling and returns the peaks (idempotent). */
  stop(): Promise<RssPeak>;
}

/** A process that exited reads as 0 bytes: the group's sum is what is still resident. */
async function readOrZero(pid: number): Promise<number> {
  try {
    return await readRssBytes(pid);
  } catch {
    return 0;
  }
}

export function startRssPeak(pids: readonly number[], intervalMs = 2000): RssPeakSampler {
  const peak: RssPeak = { samples: 0, peakTotalBytes: 0, peakProcessBytes: 0, lastTotalBytes: 0 };
  let reading: Promise<void> = Promise.resolve();
  const read = (): Promise<void> => {
    // one reading at a time: a slow /proc read on a saturated host must not pile up
    reading = reading.then(async () => {
      const rss = await Promise.all(pids.map(readOrZero));
      const total = rss.reduce((a, b) => a + b, 0);
      peak.samples += 1;
      peak.lastTotalBytes = total;
      peak.peakTotalBytes = Math.max(peak.peakTotalBytes, total);
      peak.peakProcessBytes = Math.max(peak.peakProcessBytes, ...rss);
    });
    return reading;
  };
  void read();
  const timer = setInterval(() => void read(), intervalMs);
  timer.unref();
  let stopped: Promise<RssPeak> | null = null;
  return {
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        await read();
        return { ...peak };
      })();
      return stopped;
    },
  };
}
