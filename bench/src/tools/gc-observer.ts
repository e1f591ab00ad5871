/**
 * Records a server process's garbage collections and event-loop delay, for finding where a latency
 * tail or a memory peak comes from under a scenario's load; preloaded with `gc-observer-preload.ts`:
 *
 *   BENCH_SERVER_NODE_ARGS="--import $PWD/bench/dist/tools/gc-observer-preload.js" pnpm bench api-latency
 *
 * Each process appends JSON lines to `<GC_OBSERVER_DIR>/gc-<pid>.jsonl` (default
 * `<tmpdir>/opamp-gc`), once a second: `{"kind":"gc", ...}` per collection as `v8.GCProfiler` saw
 * it (type, pause in ms, heap in use before and after: after a MarkSweepCompact, the live heap) and
 * `{"kind":"loop", ...}` (event-loop delay p99 and max over that second, new-space size). The first
 * line names the process (`{"kind":"process", "argv", ...}`). Nothing is written to stdout, which the
 * bench keeps for a process's own output.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { GCProfiler, getHeapSpaceStatistics } from 'node:v8';

const MB = 1e6;
const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** One collection as `v8.GCProfiler` reports it (cost in µs, heap statistics before and after). */
interface GcStatistic {
  gcType: string;
  cost: number;
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

/** A JSON line for one collection: type, pause in ms, heap in use before and after it (MB). */
export function gcLine(stat: GcStatistic, t: number): string {
  return JSON.stringify({
    kind: 'gc',
    t,
    type: stat.gcType,
    ms: round(stat.cost / 1000),
    heapBeforeMb: round(stat.beforeGC.heapStatistics.usedHeapSize / MB, 1),
    heapAfterMb: round(stat.afterGC.heapStatistics.usedHeapSize / MB, 1),
  });
}

/** Starts recording into `dir`, `gc-<pid>.jsonl`, until the process exits (the last second is written then). */
export function startGcObserver(dir: string, intervalMs = 1000): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `gc-${process.pid}.jsonl`);
  const pending: string[] = [
    JSON.stringify({ kind: 'process', pid: process.pid, argv: process.argv.slice(1) }),
  ];
  const started = performance.now();
  const at = (): number => round((performance.now() - started) / 1000, 3);
  let profiler = new GCProfiler();
  profiler.start();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const flush = (restart: boolean): void => {
    const t = at();
    const data = profiler.stop() as { statistics: GcStatistic[] } | undefined;
    if (restart) {
      profiler = new GCProfiler();
      profiler.start();
    }
    for (const stat of data?.statistics ?? []) pending.push(gcLine(stat, t));
    const newSpace = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
    pending.push(
      JSON.stringify({
        kind: 'loop',
        t,
        delayP99Ms: round(delay.percentile(99) / 1e6),
        delayMaxMs: round(delay.max / 1e6),
        newSpaceMb: round((newSpace?.space_size ?? 0) / MB, 1),
      }),
    );
    delay.reset();
    appendFileSync(file, `${pending.join('\n')}\n`);
    pending.length = 0;
  };
  const timer = setInterval(() => flush(true), intervalMs);
  timer.unref();
  process.once('exit', () => {
    clearInterval(timer);
    flush(false);
    delay.disable();
  });
}

/** Where the preload writes: `GC_OBSERVER_DIR`, else `<tmpdir>/opamp-gc`. */
export function gcObserverDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GC_OBSERVER_DIR || join(tmpdir(), 'opamp-gc');
}
