/**
 * The `connect-storm` report: `buildStormRun` (statistics of one storm), `buildStormReport`,
 * `formatStormMarkdown` and `stormCharts` (connected agents and connect rate over time, handshake
 * and first-reply latency), gateway against the raw uWS echo baseline.
 */
import { ratio, type Summary, summarize } from '../metrics/stats.js';
import { type Timeline, timelinePoints } from '../metrics/timeline.js';
import { environmentLine, fmt } from '../report/markdown.js';
import { latencyChart, lineChart, type Point, percentileCurve } from '../report/svg.js';
import type { Environment } from '../report/types.js';
import type { StormOutcome } from './connect-storm-fleet.js';

export const STORM_REPORT_SCHEMA = 'opamp-fleet/bench-connect-storm@1';

export interface StormRun {
  target: 'gateway' | 'baseline';
  settings: Record<string, string | number>;
  requested: number;
  connected: number;
  /** First dial -> the last agent's first reply; null when not every agent connected. */
  timeToFullFleetSeconds: number | null;
  /** Connected agents / time to full fleet (or to the last connect when incomplete). */
  connectRatePerSecond: number | null;
  attempts: number;
  /** Dials beyond each agent's first. */
  retries: number;
  refused503: number;
  retryAfterSeconds: { min: number; max: number } | null;
  dialErrors: Record<string, number>;
  badReplies: number;
  handshakeMs: Summary;
  firstReplyMs: Summary;
  /** Per agent: first dial of the storm -> its first reply (includes waiting out Retry-After). */
  timeToConnectMs: Summary;
  handshakePercentilesMs: Point[];
  firstReplyPercentilesMs: Point[];
  /** Null for processes the bench could not read. */
  server: { processes: number; cpuSeconds: number; cpuMicrosPerConnect: number | null } | null;
  generator: { cpuSeconds: number; cpuPercent: number | null };
  timeline: Timeline;
}

export interface StormReport {
  schema: typeof STORM_REPORT_SCHEMA;
  scenario: 'connect-storm';
  command: string;
  startedAt: string;
  finishedAt: string;
  options: {
    agents: number;
    gateways: number;
    dialConcurrency: number;
    agentsPerSourceAddress: number;
    timeoutSeconds: number;
    retryAfterJitter: number;
  };
  environment: Environment;
  gateway: StormRun | null;
  baseline: StormRun | null;
  /** Gateway / baseline. */
  ratios: {
    timeToFullFleet: number | null;
    connectRate: number | null;
    cpuPerConnect: number | null;
    handshakeP99: number | null;
    firstReplyP99: number | null;
  } | null;
  /** Every agent of every run connected with valid replies. */
  complete: boolean;
}

export interface RawStormRun {
  target: StormRun['target'];
  settings: Record<string, string | number>;
  outcome: StormOutcome;
  wallSeconds: number;
  /** Server CPU during the storm; null when unreadable. */
  server: { processes: number; cpuSeconds: number } | null;
  timeline: Timeline;
}

export function buildStormRun(raw: RawStormRun): StormRun {
  const o = raw.outcome;
  const full = o.fullFleetMs === null ? null : o.fullFleetMs / 1000;
  const lastConnect = o.timeToConnectMs.length > 0 ? Math.max(...o.timeToConnectMs) / 1000 : null;
  return {
    target: raw.target,
    settings: raw.settings,
    requested: o.requested,
    connected: o.connected,
    timeToFullFleetSeconds: full,
    connectRatePerSecond: ratio(o.connected, full ?? lastConnect),
    attempts: o.attempts,
    retries: o.attempts - Math.min(o.attempts, o.requested),
    refused503: o.refused503,
    retryAfterSeconds: o.retryAfterSeconds,
    dialErrors: o.dialErrors,
    badReplies: o.badReplies,
    handshakeMs: summarize(o.handshakeMs),
    firstReplyMs: summarize(o.firstReplyMs),
    timeToConnectMs: summarize(o.timeToConnectMs),
    handshakePercentilesMs: percentileCurve(o.handshakeMs),
    firstReplyPercentilesMs: percentileCurve(o.firstReplyMs),
    server:
      raw.server === null
        ? null
        : { ...raw.server, cpuMicrosPerConnect: ratio(raw.server.cpuSeconds * 1e6, o.connected) },
    generator: {
      cpuSeconds: o.generatorCpuSeconds,
      cpuPercent: ratio(o.generatorCpuSeconds * 100, raw.wallSeconds),
    },
    timeline: raw.timeline,
  };
}

export function stormRatios(gateway: StormRun | null, baseline: StormRun | null): StormReport['ratios'] {
  if (gateway === null || baseline === null) return null;
  return {
    timeToFullFleet: ratio(gateway.timeToFullFleetSeconds, baseline.timeToFullFleetSeconds),
    connectRate: ratio(gateway.connectRatePerSecond, baseline.connectRatePerSecond),
    cpuPerConnect: ratio(gateway.server?.cpuMicrosPerConnect, baseline.server?.cpuMicrosPerConnect),
    handshakeP99: ratio(gateway.handshakeMs.p99, baseline.handshakeMs.p99),
    firstReplyP99: ratio(gateway.firstReplyMs.p99, baseline.firstReplyMs.p99),
  };
}

export const isStormComplete = (run: StormRun): boolean =>
  run.connected === run.requested && run.badReplies === 0;

const LABELS = { gateway: 'gateway', baseline: 'uWS echo' } as const;
const COLUMNS = {
  gateway: 'gateway (default admission)',
  baseline: 'raw uWS echo (no admission control)',
} as const;

export function formatStormMarkdown(report: StormReport): string {
  const runs = [report.gateway, report.baseline].filter((r): r is StormRun => r !== null);
  const r = report.ratios;
  const o = report.options;
  const row = (label: string, cell: (run: StormRun) => string, ratioValue?: number | null): string =>
    `| ${label} | ${runs.map(cell).join(' | ')} |${r ? ` ${ratioValue == null ? '' : `${fmt(ratioValue, 2)}x`} |` : ''}`;
  const errors = (run: StormRun): string =>
    Object.entries(run.dialErrors)
      .map(([kind, n]) => `${kind} ${fmt(n)}`)
      .join('; ') || 'none';
  const lines = [
    `# connect-storm: ${fmt(o.agents)} agents dial at once, ${o.gateways} server process${o.gateways === 1 ? '' : 'es'} per target`,
    '',
    environmentLine(report.environment),
    '',
    `Gateways run with the product's default admission settings (upgrade token bucket, connection cap, Retry-After); agents retry a 503 after Retry-After x [1, ${fmt(1 + o.retryAfterJitter, 1)}), other failures with jittered exponential backoff, for at most ${fmt(o.timeoutSeconds)} s; dial concurrency ${fmt(o.dialConcurrency)}.`,
    '',
    `| | ${runs.map((run) => COLUMNS[run.target]).join(' | ')} |${r ? ' gateway / baseline |' : ''}`,
    `|---|${runs.map(() => '---:').join('|')}|${r ? '---:|' : ''}`,
    row('connected', (run) => `${fmt(run.connected)} / ${fmt(run.requested)}`),
    row('time to full fleet (s)', (run) => fmt(run.timeToFullFleetSeconds, 2), r?.timeToFullFleet),
    row('connect rate (agents/s)', (run) => fmt(run.connectRatePerSecond), r?.connectRate),
    row('dials / retries', (run) => `${fmt(run.attempts)} / ${fmt(run.retries)}`),
    row(
      '503 answers (Retry-After s)',
      (run) =>
        `${fmt(run.refused503)}${run.retryAfterSeconds ? ` (${fmt(run.retryAfterSeconds.min)}-${fmt(run.retryAfterSeconds.max)})` : ''}`,
    ),
    row(
      'handshake p50 / p99 (ms)',
      (run) => `${fmt(run.handshakeMs.p50, 1)} / ${fmt(run.handshakeMs.p99, 1)}`,
      r?.handshakeP99,
    ),
    row(
      'first reply p50 / p99 (ms)',
      (run) => `${fmt(run.firstReplyMs.p50, 2)} / ${fmt(run.firstReplyMs.p99, 2)}`,
      r?.firstReplyP99,
    ),
    row(
      'time to connect p50 / p99 (s)',
      (run) => `${fmt(run.timeToConnectMs.p50 / 1000, 2)} / ${fmt(run.timeToConnectMs.p99 / 1000, 2)}`,
    ),
    row(
      'server CPU (s) / per connect (µs)',
      (run) =>
        run.server ? `${fmt(run.server.cpuSeconds, 2)} / ${fmt(run.server.cpuMicrosPerConnect)}` : 'n/a',
      r?.cpuPerConnect,
    ),
    row('generator CPU (% of a core)', (run) => fmt(run.generator.cpuPercent)),
    row('failed attempts', errors),
    '',
    `Reproduce: \`${report.command}\``,
    '',
  ];
  if (!report.complete) lines.push('**Incomplete run**: not every agent connected before the deadline.', '');
  return lines.join('\n');
}

export function stormCharts(report: StormReport): Record<string, string> {
  const runs = [report.gateway, report.baseline].filter((r): r is StormRun => r !== null);
  const agents = fmt(report.options.agents);
  const rate = (t: Timeline): Point[] =>
    t.seconds.slice(1).map((s, i) => {
      const dt = s - t.seconds[i]!;
      return [s, dt > 0 ? (t.connected[i + 1]! - t.connected[i]!) / dt : 0] as const;
    });
  return {
    connected: lineChart({
      title: `Connect storm, ${agents} agents: connected agents over time`,
      xLabel: 'seconds since the first dial',
      yLabel: 'connected agents',
      series: runs.map((run) => ({
        label: LABELS[run.target],
        points: timelinePoints(run.timeline, 'connected'),
      })),
    }),
    'connect-rate': lineChart({
      title: `Connect storm, ${agents} agents: agents connected per second`,
      xLabel: 'seconds since the first dial',
      yLabel: 'agents connected per second',
      series: runs.map((run) => ({ label: LABELS[run.target], points: rate(run.timeline) })),
    }),
    latency: latencyChart({
      title: `Connect storm, ${agents} agents: handshake and first-reply latency`,
      series: runs.flatMap((run) => [
        { label: `${LABELS[run.target]} handshake`, percentiles: run.handshakePercentilesMs },
        { label: `${LABELS[run.target]} first reply`, percentiles: run.firstReplyPercentilesMs },
      ]),
    }),
  };
}
