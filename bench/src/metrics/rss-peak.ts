/**
 * Peak resident memory of a group of server processes over a stretch of a run:
 * `startRssPeak(pids)` reads every process's RSS at once and every interval until `stop()`, which
 * takes a last reading. A reading before or after a phase misses what a process grows to within it
 * (a gateway's heap while Redis and Postgres fall behind); a memory limit is hit by the peak.
 */
import { startSampler } from '../persistence/sampler.js';
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

const readAll = (pids: readonly number[]): Promise<number[]> => Promise.all(pids.map(readOrZero));

export function startRssPeak(pids: readonly number[], intervalMs = 2000): RssPeakSampler {
  // one reading in flight at a time (startSampler): a slow /proc read on a saturated host does not pile up
  const sampler = startSampler(async () => [await readAll(pids)], intervalMs);
  let stopped: Promise<RssPeak> | null = null;
  return {
    stop() {
      stopped ??= (async () => {
        const readings = [...(await sampler.stop()), await readAll(pids)];
        const totals = readings.map((rss) => rss.reduce((a, b) => a + b, 0));
        return {
          samples: readings.length,
          peakTotalBytes: Math.max(...totals),
          peakProcessBytes: Math.max(0, ...readings.flat()),
          lastTotalBytes: totals.at(-1)!,
        };
      })();
      return stopped;
    },
  };
}
