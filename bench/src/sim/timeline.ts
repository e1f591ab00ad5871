/**
 * `SimTimeline`: samples a Simulator once a second: the time series for charts (connected agents,
 * answered msgs/s, reconnects/s) and the per-process CPU of the simulator, and prints the progress
 * line. `simUsageSummary` turns two usage snapshots into per-process CPU % and RSS.
 */
import type { SimCounters, SimProcessUsage } from './counters.js';
import type { Simulator } from './simulator.js';

/** One sample per second; `t` in seconds since the timeline started. */
export interface Timeline {
  t: number[];
  connected: number[];
  /** Answered messages per second. */
  msgsPerSecond: number[];
  sentPerSecond: number[];
  reconnects: number[];
  drops: number[];
}

/** A simulator process at or above this share of one core is saturated: its rates are lower bounds. */
export const SATURATED_CPU_PERCENT = 90;

export interface SimProcessSummary {
  pid: number;
  cpuPercent: number;
  /** Highest one-second CPU % seen by the timeline. */
  peakCpuPercent: number;
  rssBytes: number;
  saturated: boolean;
}

export class SimTimeline {
  readonly series: Timeline = {
    t: [],
    connected: [],
    msgsPerSecond: [],
    sentPerSecond: [],
    reconnects: [],
    drops: [],
  };
  private readonly peaks = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly started = performance.now();
  private last: { at: number; counters: SimCounters; usage: SimProcessUsage[] };

  constructor(
    private readonly sim: Simulator,
    private readonly progress: (line: string) => void,
    private readonly label: string,
  ) {
    this.last = { at: this.started, counters: sim.counters(), usage: sim.usage() };
    this.timer = setInterval(() => this.sample(), 1000);
  }

  private sample(): void {
    const now = performance.now();
    const counters = this.sim.counters();
    const usage = this.sim.usage();
    const seconds = (now - this.last.at) / 1000;
    const answered = Math.round((counters.answered - this.last.counters.answered) / seconds);
    const s = this.series;
    s.t.push(Math.round((now - this.started) / 100) / 10);
    s.connected.push(counters.connected);
    s.msgsPerSecond.push(answered);
    s.sentPerSecond.push(Math.round((counters.sent - this.last.counters.sent) / seconds));
    s.reconnects.push(counters.reconnects - this.last.counters.reconnects);
    s.drops.push(counters.drops - this.last.counters.drops);
    const cpu: number[] = [];
    for (const u of usage) {
      const before = this.last.usage.find((p) => p.pid === u.pid);
      if (before === undefined) continue;
      const percent = ((u.cpuSeconds - before.cpuSeconds) / seconds) * 100;
      cpu.push(Math.round(percent));
      this.peaks.set(u.pid, Math.max(this.peaks.get(u.pid) ?? 0, percent));
    }
    this.last = { at: now, counters, usage };
    this.progress(
      `${this.label}: connected ${counters.connected}/${counters.agents} (http ${counters.connectedHttp}), ` +
        `${answered} msgs/s, reconnects ${counters.reconnects}, drops ${counters.drops}, ` +
        `errors ${counters.errors}, sim cpu ${cpu.join('/')} %`,
    );
  }

  /** Per-process CPU % and RSS between `before` and now (`seconds` apart). */
  summary(before: readonly SimProcessUsage[], seconds: number): SimProcessSummary[] {
    return simUsageSummary(before, this.sim.usage(), seconds, this.peaks);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export function simUsageSummary(
  before: readonly SimProcessUsage[],
  after: readonly SimProcessUsage[],
  seconds: number,
  peaks: ReadonlyMap<number, number> = new Map(),
): SimProcessSummary[] {
  return after.map((u) => {
    const start = before.find((p) => p.pid === u.pid);
    const cpuPercent =
      start === undefined || seconds <= 0 ? 0 : ((u.cpuSeconds - start.cpuSeconds) / seconds) * 100;
    return {
      pid: u.pid,
      cpuPercent: round1(cpuPercent),
      peakCpuPercent: round1(peaks.get(u.pid) ?? cpuPercent),
      rssBytes: u.rssBytes,
      saturated: cpuPercent >= SATURATED_CPU_PERCENT,
    };
  });
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
