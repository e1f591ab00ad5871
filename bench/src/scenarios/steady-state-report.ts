/**
 * Report of the steady-state scenario: its JSON shape (`SteadyStateReport`) and Markdown
 * (`formatSteadyStateMarkdown`).
 */
import { ratio } from '../metrics/stats.js';
import { environmentLine, fmt } from '../report/markdown.js';
import type { Environment } from '../report/types.js';
import type { ClusterSettings } from '../sim/cluster.js';
import type { WindowResult } from '../sim/measure.js';
import { latencyCells, MIB, ratioCell, simUsageLines, table } from '../sim/report-kit.js';
import type { Timeline } from '../sim/timeline.js';

export const STEADY_STATE_SCHEMA = 'opamp-fleet/bench-steady-state@1';

/** One measured run: the gateway cluster, or the raw uWS echo baseline. */
export interface SteadyRun {
  target: 'gateway' | 'baseline';
  transport: string;
  agents: number;
  connected: number;
  connectSeconds: number;
  /** Offered load: agents / heartbeat interval. */
  expectedPerSecond: number;
  sentPerSecond: number;
  /** Answered messages per second over the window. */
  msgsPerSecond: number;
  window: WindowResult;
  /** CPU µs of the server processes serving the agents (gateways / echo servers) per answered message. */
  serverCpuMicrosPerMessage: number | null;
  timeline: Timeline;
}

export interface SteadyStateReport {
  schema: typeof STEADY_STATE_SCHEMA;
  scenario: 'steady-state';
  startedAt: string;
  complete: boolean;
  command: string;
  environment: Environment;
  settings: {
    agents: number;
    transport: string;
    httpShare: number;
    heartbeatSeconds: number;
    durationSeconds: number;
    warmupSeconds: number;
    baselineDurationSeconds: number;
    target: string;
    cluster: ClusterSettings | null;
  };
  gateway: SteadyRun & {
    /** Agents online in Postgres after connecting (null with --target). */
    onlineInPostgres: number | null;
    /** Transitions away from online since the first dial: every agent stayed alive, so all are false. */
    falseOfflineTransitions: { count: number; byReason: Record<string, number> } | null;
  };
  baseline: SteadyRun | null;
  /** gateway / baseline. */
  ratios: {
    msgsPerSecond: number | null;
    latencyP50: number | null;
    latencyP99: number | null;
    serverCpuPerMessage: number | null;
  };
}

export function steadyRatios(gateway: SteadyRun, baseline: SteadyRun | null): SteadyStateReport['ratios'] {
  const b = baseline?.window.latency.summary;
  const g = gateway.window.latency.summary;
  return {
    msgsPerSecond: ratio(gateway.msgsPerSecond, baseline?.msgsPerSecond),
    latencyP50: ratio(g.p50, b?.p50),
    latencyP99: ratio(g.p99, b?.p99),
    serverCpuPerMessage: ratio(gateway.serverCpuMicrosPerMessage, baseline?.serverCpuMicrosPerMessage),
  };
}

export function formatSteadyStateMarkdown(r: SteadyStateReport): string {
  const runs = [r.gateway, ...(r.baseline === null ? [] : [r.baseline])];
  const cell = (pick: (run: SteadyRun) => string) => runs.map(pick);
  const servers = (run: SteadyRun) =>
    Object.entries(run.window.servers)
      .map(([role, u]) => `${role} ${fmt(u.cpuPercent)} % / ${fmt(u.rssBytes / MIB)} MiB`)
      .join(', ') || 'n/a';
  const header = ['', 'gateway cluster', ...(r.baseline === null ? [] : ['uWS echo baseline', 'ratio'])];
  const row = (label: string, pick: (run: SteadyRun) => string, ratioValue?: number | null) => [
    label,
    ...cell(pick),
    ...(r.baseline === null ? [] : [ratioCell(ratioValue ?? null)]),
  ];
  const g = r.gateway;
  const lines = [
    `# steady-state: ${fmt(r.settings.agents)} agents (${r.settings.transport}), heartbeat ${r.settings.heartbeatSeconds} s, ${r.settings.durationSeconds} s`,
    '',
    environmentLine(r.environment),
    '',
    `\`${r.command}\``,
    '',
    ...table(header, [
      row('transport', (run) => run.transport),
      row(
        'connected',
        (run) => `${fmt(run.connected)} / ${fmt(run.agents)} in ${fmt(run.connectSeconds, 1)} s`,
      ),
      row(
        'msgs/s answered (offered)',
        (run) => `${fmt(run.msgsPerSecond)} (${fmt(run.expectedPerSecond)})`,
        r.ratios.msgsPerSecond,
      ),
      row('reply latency p50 / p90 / p99 / max (ms)', (run) => latencyCells(run.window.latency.summary)),
      row('WebSocket agents', (run) => latencyCells(run.window.latencyByTransport.ws.summary)),
      row('HTTP agents', (run) => latencyCells(run.window.latencyByTransport.http.summary)),
      row('latency p50 ratio', () => '', r.ratios.latencyP50),
      row('latency p99 ratio', () => '', r.ratios.latencyP99),
      row(
        'server CPU per message (µs)',
        (run) => fmt(run.serverCpuMicrosPerMessage, 1),
        r.ratios.serverCpuPerMessage,
      ),
      row('server CPU / RSS', servers),
      row('reconnects / drops / errors / skipped', (run) => {
        const d = run.window.delta;
        return `${fmt(d.reconnects)} / ${fmt(d.drops)} / ${fmt(d.errors)} / ${fmt(d.skipped)}`;
      }),
    ]),
    '',
    `Online in Postgres after connecting: ${g.onlineInPostgres === null ? 'n/a (--target)' : `${fmt(g.onlineInPostgres)} / ${fmt(g.agents)}`}.`,
    `False offline transitions (should be 0): ${
      g.falseOfflineTransitions === null
        ? 'n/a (--target)'
        : `**${fmt(g.falseOfflineTransitions.count)}**${
            g.falseOfflineTransitions.count > 0
              ? ` (${JSON.stringify(g.falseOfflineTransitions.byReason)})`
              : ''
          }`
    }. Reconnects in the window (should be 0): **${fmt(g.window.delta.reconnects)}**.`,
    '',
    ...runs.flatMap((run) => [`${run.target}: ${simUsageLines(run.window.sim).join(' ')}`, '']),
    r.baseline === null
      ? 'No baseline run.'
      : 'The baseline is the same number of WebSocket agents against raw uWebSockets.js echo processes (one per gateway): it answers every message with its own bytes, so it shows the cost of the transport alone.',
    '',
    r.complete ? 'Complete.' : '**Incomplete**: not every agent connected (or went online in Postgres).',
    '',
  ];
  return lines.join('\n');
}
