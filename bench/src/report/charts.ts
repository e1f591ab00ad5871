/**
 * Charts of the WebSocket scenarios: `connectCharts` (ws-vs-baseline / connect: heartbeat latency
 * gateway vs raw uWS echo, connected agents and replies per second over time) and
 * `heartbeatCharts` (heartbeat-throughput: reply latency and send lag, connected agents and
 * heartbeats answered per second over time). Each returns SVG documents by chart name.
 */
import type { Summary } from '../metrics/stats.js';
import { timelinePoints } from '../metrics/timeline.js';
import type { ScaleReport } from '../scenarios/scale-report.js';
import type { HeartbeatThroughputReport } from './heartbeat-types.js';
import { latencyChart, lineChart, type Point } from './svg.js';
import type { ConnectReport, TargetRun } from './types.js';

const TARGET_LABELS = { gateway: 'gateway', baseline: 'raw uWS echo' } as const;

/** `[percentile, value]` points of a summary (p50, p90, p99), for reports that keep no samples. */
export function summaryPercentiles(summary: Summary): Point[] {
  return (
    [
      [50, summary.p50],
      [90, summary.p90],
      [99, summary.p99],
    ] as const
  ).filter(([, v]) => Number.isFinite(v));
}

export function connectCharts(report: ConnectReport): Record<string, string> {
  const runs = [report.gateway, report.baseline].filter((r): r is TargetRun => r !== null);
  const agents = report.options.agents.toLocaleString('en-US');
  return {
    latency: latencyChart({
      title: `Heartbeat latency, ${agents} agents: gateway vs raw uWS echo`,
      series: runs.map((r) => ({
        label: TARGET_LABELS[r.target],
        percentiles: r.heartbeat.latencyPercentilesMs,
      })),
    }),
    connected: lineChart({
      title: `Connected agents over time (${agents} agents)`,
      xLabel: 'seconds since the first dial',
      yLabel: 'connected agents',
      series: runs.map((r) => ({
        label: TARGET_LABELS[r.target],
        points: timelinePoints(r.timeline, 'connected'),
      })),
    }),
    throughput: lineChart({
      title: 'Replies per second over time',
      xLabel: 'seconds since the first dial',
      yLabel: 'replies/s',
      series: runs.map((r) => ({
        label: TARGET_LABELS[r.target],
        points: timelinePoints(r.timeline, 'repliesPerSecond'),
      })),
    }),
  };
}

export function heartbeatCharts(report: HeartbeatThroughputReport): Record<string, string> {
  const agents = report.options.agents.toLocaleString('en-US');
  return {
    latency: latencyChart({
      title: `Steady phase, ${agents} agents: heartbeat reply latency and generator send lag`,
      series: [
        { label: 'reply latency', percentiles: report.steady.latencyPercentilesMs },
        { label: 'send lag', percentiles: report.steady.sendLagPercentilesMs },
      ],
    }),
    timeline: lineChart({
      title: `Heartbeats answered per second and connected agents (${agents} agents)`,
      xLabel: 'seconds since the first dial',
      yLabel: 'agents / heartbeats per second',
      series: [
        { label: 'heartbeats/s answered', points: timelinePoints(report.timeline, 'repliesPerSecond') },
        { label: 'connected agents', points: timelinePoints(report.timeline, 'connected') },
      ],
    }),
  };
}

/** `scale`: connected agents over time while the fleet connects (gateways vs raw uWS echo) and heartbeat latency. */
export function scaleCharts(report: ScaleReport): Record<string, string> {
  const agents = report.settings.agents.toLocaleString('en-US');
  const runs = [
    { label: TARGET_LABELS.gateway, fleet: report.gateway },
    ...(report.baseline === null ? [] : [{ label: TARGET_LABELS.baseline, fleet: report.baseline }]),
  ];
  return {
    connected: lineChart({
      title: `Connected agents over time (${agents} agents)`,
      xLabel: 'seconds since the first dial',
      yLabel: 'connected agents',
      series: runs.map((r) => ({ label: r.label, points: timelinePoints(r.fleet.timeline, 'connected') })),
    }),
    latency: latencyChart({
      title: `Heartbeat latency, ${agents} agents every ${report.settings.heartbeatSeconds} s`,
      series: [
        { label: TARGET_LABELS.gateway, percentiles: summaryPercentiles(report.heartbeats.latencyMs) },
      ],
    }),
  };
}
