/**
 * Report pieces shared by the simulator scenarios: latency distributions (summary + percentile
 * curve for charts), the simulator's own usage, the charts (connected agents over time, latency
 * percentiles) and Markdown helpers.
 */
import { type Summary, summarize } from '../metrics/stats.js';
import { fmt } from '../report/markdown.js';
import { latencyChart, lineChart, type Point, percentileCurve } from '../report/svg.js';
import type { SimCounters } from './counters.js';
import type { SimProcessSummary, Timeline } from './timeline.js';

/** A latency distribution in ms: summary plus `[percentile, ms]` points (p0 .. p99.9). */
export interface LatencyReport {
  summary: Summary;
  percentiles: Point[];
}

export function latencyReport(samplesMs: ArrayLike<number>): LatencyReport {
  return { summary: summarize(samplesMs), percentiles: percentileCurve(samplesMs) };
}

/** What every simulator report says about the simulator itself. */
export interface SimReportPart {
  processes: SimProcessSummary[];
  /** Some process ran at >= 90 % of a core: its rates are lower bounds, its latencies upper bounds. */
  saturated: boolean;
  counters: SimCounters;
}

export function simReportPart(processes: SimProcessSummary[], counters: SimCounters): SimReportPart {
  return { processes, saturated: processes.some((p) => p.saturated), counters };
}

/** The two standard charts: connected agents (and msgs/s) over time, and latency percentiles. */
export function simCharts(
  runs: ReadonlyArray<{ label: string; timeline: Timeline }>,
  latencies: ReadonlyArray<{ label: string; latency: LatencyReport }>,
  latencyTitle: string,
): Record<string, string> {
  const points = (t: readonly number[], y: readonly number[]): Point[] =>
    t.map((x, i) => [x, y[i] ?? 0] as const);
  return {
    connected: lineChart({
      title: 'Connected agents and answered messages per second',
      xLabel: 'time (s)',
      yLabel: 'agents, msgs/s',
      series: runs.flatMap(({ label, timeline }) => [
        { label: `${label} connected`, points: points(timeline.t, timeline.connected) },
        { label: `${label} msgs/s`, points: points(timeline.t, timeline.msgsPerSecond) },
      ]),
    }),
    latency: latencyChart({
      title: latencyTitle,
      series: latencies
        .filter((l) => l.latency.percentiles.length > 0)
        .map((l) => ({ label: l.label, percentiles: l.latency.percentiles })),
    }),
  };
}

export const MIB = 1024 * 1024;

/** `p50 / p90 / p99 / max` of a summary, each times `scale` (ms -> s: 1e-3). */
export function latencyCells(s: Summary, scale = 1): string {
  const v = (n: number) => fmt(n * scale, 1);
  return `${v(s.p50)} / ${v(s.p90)} / ${v(s.p99)} / ${v(s.max)}`;
}

/** `a / b` formatted as a ratio, empty when undefined. */
export function ratioCell(n: number | null): string {
  return n === null ? '' : `${fmt(n, 2)}x`;
}

/** The simulator's usage as a Markdown paragraph. */
export function simUsageLines(part: SimReportPart): string[] {
  const processes = part.processes
    .map(
      (p) =>
        `pid ${p.pid}: ${fmt(p.cpuPercent)} % CPU (peak ${fmt(p.peakCpuPercent)} %), ${fmt(p.rssBytes / MIB)} MiB`,
    )
    .join('; ');
  const c = part.counters;
  const tally = (t: Record<string, number>) =>
    Object.entries(t)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  return [
    `Simulator: ${processes}.${part.saturated ? ' **Saturated** (>= 90 % of a core): rates are lower bounds, latencies upper bounds.' : ''}`,
    `Simulator counters: sent ${fmt(c.sent)}, answered ${fmt(c.answered)}, skipped ${fmt(c.skipped)}, connects ${fmt(c.connects)}, reconnects ${fmt(c.reconnects)}, drops ${fmt(c.drops)} (${tally(c.dropKinds)}), errors ${fmt(c.errors)} (${tally(c.errorKinds)}), full states asked/sent ${fmt(c.fullStateRequested)}/${fmt(c.fullStateSent)}, uid changes ${fmt(c.uidChanges)}.`,
  ];
}

/** A Markdown table. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}
