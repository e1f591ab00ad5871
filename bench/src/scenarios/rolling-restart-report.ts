/**
 * Report of the rolling-restart scenario: JSON shape (`RollingRestartReport`), false offlines per
 * restart (`falseOfflinesPerRestart`) and Markdown (`formatRollingRestartMarkdown`).
 */
import { ratio } from '../metrics/stats.js';
import { environmentLine, fmt } from '../report/markdown.js';
import type { Environment } from '../report/types.js';
import type { ClusterSettings } from '../sim/cluster.js';
import type { TransitionRow } from '../sim/pg-checks.js';
import {
  type LatencyReport,
  latencyCells,
  ratioCell,
  type SimReportPart,
  simUsageLines,
  table,
} from '../sim/report-kit.js';
import type { Timeline } from '../sim/timeline.js';
import type { RestartResult } from './rolling-restart-steps.js';

export const ROLLING_RESTART_SCHEMA = 'opamp-fleet/bench-rolling-restart@1';

export interface RestartRun {
  target: 'gateway' | 'baseline';
  servers: number;
  connected: number;
  connectSeconds: number;
  restarts: RestartResult[];
  /** Every reconnect of every restart, ms. */
  reconnectLatency: LatencyReport;
  /** Longest SIGTERM -> all reconnected over the restarts (null when one timed out). */
  worstAllReconnectedSeconds: number | null;
  sim: SimReportPart;
  timeline: Timeline;
}

export interface RollingRestartReport {
  schema: typeof ROLLING_RESTART_SCHEMA;
  scenario: 'rolling-restart';
  startedAt: string;
  complete: boolean;
  command: string;
  environment: Environment;
  settings: {
    agents: number;
    transport: string;
    heartbeatSeconds: number;
    offlineTimeoutSeconds: number;
    settleSeconds: number;
    tailSeconds: number;
    backoff: { baseMs: number; capMs: number };
    cluster: ClusterSettings;
  };
  gateway: RestartRun & {
    /** Agents marked offline although alive (all were): per restart and by reason; must be 0. */
    falseOffline: {
      count: number;
      perRestart: number[];
      byReason: Record<string, number>;
      /** How long those agents stayed offline (until their next online transition), ms. */
      offlineFor: LatencyReport;
      /** Of them, how many never came back online. */
      neverBack: number;
    };
    onlineAtEnd: number;
  };
  baseline: RestartRun | null;
  /** gateway / baseline. */
  ratios: { worstAllReconnected: number | null; reconnectP50: number | null; reconnectP99: number | null };
}

/** How many of `rows` fall in each restart's span (its SIGTERM until the next one's). */
export function falseOfflinesPerRestart(
  rows: readonly TransitionRow[],
  restartAtMs: readonly number[],
): number[] {
  return restartAtMs.map((at, i) => {
    const next = restartAtMs[i + 1] ?? Number.POSITIVE_INFINITY;
    return rows.filter((r) => r.atMs >= at && r.atMs < next).length;
  });
}

export function worstOf(restarts: readonly RestartResult[]): number | null {
  if (restarts.some((r) => r.allReconnectedSeconds === null)) return null;
  return Math.max(...restarts.map((r) => r.allReconnectedSeconds as number));
}

export function restartRatios(
  gateway: RestartRun,
  baseline: RestartRun | null,
): RollingRestartReport['ratios'] {
  return {
    worstAllReconnected: ratio(gateway.worstAllReconnectedSeconds, baseline?.worstAllReconnectedSeconds),
    reconnectP50: ratio(gateway.reconnectLatency.summary.p50, baseline?.reconnectLatency.summary.p50),
    reconnectP99: ratio(gateway.reconnectLatency.summary.p99, baseline?.reconnectLatency.summary.p99),
  };
}

function restartRows(run: RestartRun, falseOffline?: readonly number[]): string[][] {
  return run.restarts.map((r, i) => [
    `${run.target} ${r.server}`,
    fmt(r.drops),
    fmt(r.reconnects),
    fmt(r.stopSeconds, 2),
    r.allReconnectedSeconds === null ? '**timeout**' : fmt(r.allReconnectedSeconds, 2),
    latencyCells(r.reconnectLatency.summary),
    falseOffline === undefined ? '' : `**${fmt(falseOffline[i])}**`,
    Object.entries(r.dropKinds)
      .map(([k, n]) => `${k} ${n}`)
      .join(', '),
  ]);
}

export function formatRollingRestartMarkdown(r: RollingRestartReport): string {
  const g = r.gateway;
  const s = r.settings;
  return [
    `# rolling-restart: ${fmt(s.agents)} agents (${s.transport}) over ${s.cluster.gateways} gateways, heartbeat ${s.heartbeatSeconds} s, offline timeout ${s.offlineTimeoutSeconds} s`,
    '',
    environmentLine(r.environment),
    '',
    `\`${r.command}\``,
    '',
    `Connected ${fmt(g.connected)} / ${fmt(s.agents)} in ${fmt(g.connectSeconds, 1)} s. Each server in turn: SIGTERM (the gateway drains, pacing its closes), wait for its exit, start a new one on the same port; ${s.settleSeconds} s between restarts. Backoff: first retry at once, then full jitter from ${s.backoff.baseMs} ms up to ${s.backoff.capMs} ms.`,
    '',
    ...table(
      [
        'restart',
        'dropped',
        'reconnected',
        'drain (s)',
        'SIGTERM -> all back (s)',
        'reconnect p50 / p90 / p99 / max (ms)',
        'false offline',
        'drops by kind',
      ],
      [...restartRows(g, g.falseOffline.perRestart), ...(r.baseline === null ? [] : restartRows(r.baseline))],
    ),
    '',
    `False offline transitions in Postgres (agents marked offline although they reconnected; must be 0): **${fmt(g.falseOffline.count)}**${
      g.falseOffline.count > 0
        ? ` (${JSON.stringify(g.falseOffline.byReason)}; offline for p50 / p90 / p99 / max ${latencyCells(g.falseOffline.offlineFor.summary)} ms, ${fmt(g.falseOffline.neverBack)} never back)`
        : ''
    }, checked ${s.tailSeconds} s after the last restart. Online at the end: ${fmt(g.onlineAtEnd)} / ${fmt(s.agents)}.`,
    '',
    ...table(
      ['', 'gateways', 'uWS echo baseline', 'ratio'],
      [
        [
          'worst SIGTERM -> all back (s)',
          fmt(g.worstAllReconnectedSeconds, 2),
          fmt(r.baseline?.worstAllReconnectedSeconds, 2),
          ratioCell(r.ratios.worstAllReconnected),
        ],
        [
          'reconnect p50 / p90 / p99 / max (ms)',
          latencyCells(g.reconnectLatency.summary),
          r.baseline === null ? 'n/a' : latencyCells(r.baseline.reconnectLatency.summary),
          `p50 ${ratioCell(r.ratios.reconnectP50)}, p99 ${ratioCell(r.ratios.reconnectP99)}`,
        ],
      ],
    ),
    '',
    'The baseline restarts raw uWebSockets.js echo processes the same way; they exit at once on SIGTERM (no drain), so all their agents drop together.',
    '',
    ...[g, ...(r.baseline === null ? [] : [r.baseline])].flatMap((run) => [
      `${run.target}: ${simUsageLines(run.sim).join(' ')}`,
      '',
    ]),
    r.complete
      ? 'Complete.'
      : '**Incomplete**: not every agent connected, or not every agent was back after a restart.',
    '',
  ].join('\n');
}
