import { summarize } from '../metrics/stats.js';
import type { UpdateBaseline } from '../report/heartbeat-types.js';

/** Writes last-seen times for agents; returns the rows it changed. */
export type LastSeenWrite = (ids: string[], lastSeenMs: number[]) => Promise<number>;

export interface UpdateBaselineOptions {
  /** Agent ids of the table, in the order chunks are taken. */
  ids: readonly string[];
  chunkSize: number;
  durationMs: number;
  /** Monotonic ms. */
  now: () => number;
  /** Epoch ms of the first pass's timestamps; every pass writes 1 s later, so every row changes. */
  startEpochMs: number;
}

/**
 * Calls `write` with consecutive chunks of `ids`, pass after pass over the table (each pass one
 * second later than the previous, so GREATEST moves every row), one statement at a time, until
 * `durationMs` has passed; returns statements, rows and rows per second.
 */
export async function runUpdateBaseline(
  statement: string,
  write: LastSeenWrite,
  o: UpdateBaselineOptions,
): Promise<UpdateBaseline> {
  const statementMs: number[] = [];
  let rows = 0;
  const started = o.now();
  let pass = 0;
  let offset = 0;
  while (o.ids.length > 0 && o.now() - started < o.durationMs) {
    const ids = o.ids.slice(offset, offset + o.chunkSize);
    const at = o.startEpochMs + pass * 1000;
    const t0 = o.now();
    rows += await write(
      ids as string[],
      ids.map(() => at),
    );
    statementMs.push(o.now() - t0);
    offset += o.chunkSize;
    if (offset >= o.ids.length) {
      offset = 0;
      pass++;
    }
  }
  const seconds = (o.now() - started) / 1000;
  return {
    statement,
    statements: statementMs.length,
    rows,
    seconds,
    rowsPerSecond: seconds > 0 ? rows / seconds : null,
    statementMs: summarize(statementMs),
  };
}
