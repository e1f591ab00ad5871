/**
 * Report of the churn scenario: JSON shape (`ChurnReport`), the offline summary of the agents that
 * left (`leaverOutcome`), and Markdown (`formatChurnMarkdown`).
 */
import { environmentLine, fmt } from '../report/markdown.js';
import type { Environment } from '../report/types.js';
import type { ClusterSettings } from '../sim/cluster.js';
import type { WindowResult } from '../sim/measure.js';
import type { HistoryCounts } from '../sim/pg-checks.js';
import {
  type LatencyReport,
  latencyCells,
  latencyReport,
  MIB,
  simUsageLines,
  table,
} from '../sim/report-kit.js';
import type { LeftAgent } from '../sim/sim-ipc.js';
import type { Timeline } from '../sim/timeline.js';

export const CHURN_SCHEMA = 'opamp-fleet/bench-churn@1';

/** How the agents that left one way (graceful or silent) reached offline in Postgres. */
export interface LeaverOutcome {
  left: number;
  /** Left agents whose status in Postgres is no longer online. */
  reachedOffline: number;
  /** Leave -> status_changed_at, ms. */
  toOffline: LatencyReport;
}

export interface ChurnReport {
  schema: typeof CHURN_SCHEMA;
  scenario: 'churn';
  startedAt: string;
  complete: boolean;
  command: string;
  environment: Environment;
  settings: {
    agents: number;
    transport: string;
    heartbeatSeconds: number;
    durationSeconds: number;
    churnPerMinute: number;
    offlineTimeoutSeconds: number;
    /** Longest wait after the churn for the last leavers to go offline. */
    tailSeconds: number;
    target: string;
    cluster: ClusterSettings | null;
  };
  connected: number;
  connectSeconds: number;
  achieved: {
    leftPerMinute: number;
    joinedPerMinute: number;
    /** Connections established per minute (joins, and any reconnects). */
    connectsPerMinute: number;
    /** Connections lost without the agent asking, per minute (silent leavers closed by the server count here only if alive). */
    dropsPerMinute: number;
    leftGraceful: number;
    leftSilent: number;
    joined: number;
  };
  /** null with --target. */
  offline: {
    graceful: LeaverOutcome;
    silent: LeaverOutcome;
    /** How long the tail wait took until every leaver was offline (or it gave up). */
    tailWaitSeconds: number;
  } | null;
  /** Agents alive at the end that are online in Postgres (null with --target). */
  aliveOnline: {
    alive: number;
    online: number;
    /** Up to 20 alive agents not online, with their status (`absent`: no row in Postgres). */
    notOnline: Array<{ id: string; status: string }>;
  } | null;
  /** Transitions away from online of agents that never left: false offlines (should be 0). */
  falseOfflineTransitions: number | null;
  history: {
    /** WebSocket connections the simulator established, HTTP sessions (one per HTTP agent). */
    expected: { ws: number; http: number };
    written: HistoryCounts;
  } | null;
  window: WindowResult;
  timeline: Timeline;
}

/** The offline outcome of `left` given their status in Postgres. */
export function leaverOutcome(
  left: readonly LeftAgent[],
  status: ReadonlyMap<string, { status: string; changedMs: number | null }>,
): LeaverOutcome {
  const delays: number[] = [];
  for (const agent of left) {
    const s = status.get(agent.id);
    if (s === undefined || s.status === 'online' || s.changedMs === null) continue;
    delays.push(s.changedMs - agent.atMs);
  }
  return { left: left.length, reachedOffline: delays.length, toOffline: latencyReport(delays) };
}

export function formatChurnMarkdown(r: ChurnReport): string {
  const a = r.achieved;
  const offlineRows = (label: string, o: LeaverOutcome) => [
    label,
    fmt(o.left),
    fmt(o.reachedOffline),
    latencyCells(o.toOffline.summary, 1e-3),
  ];
  const h = r.history;
  const servers = Object.entries(r.window.servers)
    .map(([role, u]) => `${role} ${fmt(u.cpuPercent)} % / ${fmt(u.rssBytes / MIB)} MiB`)
    .join(', ');
  return [
    `# churn: ${fmt(r.settings.agents)} agents (${r.settings.transport}), ${fmt(r.settings.churnPerMinute)} leave + join per minute, ${r.settings.durationSeconds} s`,
    '',
    environmentLine(r.environment),
    '',
    `\`${r.command}\``,
    '',
    `Connected ${fmt(r.connected)} / ${fmt(r.settings.agents)} in ${fmt(r.connectSeconds, 1)} s; heartbeat ${r.settings.heartbeatSeconds} s, offline timeout ${r.settings.offlineTimeoutSeconds} s.`,
    '',
    ...table(
      ['achieved per minute', 'left', 'joined', 'connects', 'drops'],
      [
        [
          '',
          fmt(a.leftPerMinute, 1),
          fmt(a.joinedPerMinute, 1),
          fmt(a.connectsPerMinute, 1),
          fmt(a.dropsPerMinute, 1),
        ],
      ],
    ),
    '',
    `Left ${fmt(a.leftGraceful)} gracefully (agent_disconnect) and ${fmt(a.leftSilent)} silently (stopped sending, socket left open); ${fmt(a.joined)} fresh agents joined.`,
    '',
    ...(r.offline === null
      ? ['Offline in Postgres: n/a (--target).']
      : [
          ...table(
            ['left', 'agents', 'offline in Postgres', 'leave -> offline p50 / p90 / p99 / max (s)'],
            [offlineRows('graceful', r.offline.graceful), offlineRows('silent', r.offline.silent)],
          ),
          '',
          `Tail wait after the churn: ${fmt(r.offline.tailWaitSeconds, 1)} s.`,
        ]),
    '',
    `Alive agents online in Postgres at the end: ${
      r.aliveOnline === null
        ? 'n/a'
        : `${fmt(r.aliveOnline.online)} / ${fmt(r.aliveOnline.alive)}${
            r.aliveOnline.notOnline.length > 0
              ? ` (not online: ${r.aliveOnline.notOnline.map((a) => `${a.id} ${a.status}`).join(', ')})`
              : ''
          }`
    }. False offline transitions (agents that never left; should be 0): **${fmt(r.falseOfflineTransitions)}**.`,
    '',
    h === null
      ? 'Connection history: n/a (--target).'
      : `Connection history rows: WebSocket ${fmt(h.written.rows.ws ?? 0)} written / ${fmt(h.expected.ws)} connections made; HTTP ${fmt(h.written.rows.http ?? 0)} / ${fmt(h.expected.http)} sessions; closed rows ${fmt(h.written.closed)} (${JSON.stringify(h.written.closeReasons)}).`,
    '',
    `Reply latency in the churn window p50 / p90 / p99 / max (ms): ${latencyCells(r.window.latency.summary)}. Errors: ${fmt(r.window.delta.errors)} ${JSON.stringify(r.window.delta.errorKinds)}.`,
    '',
    `Servers (CPU % of one core / RSS): ${servers || 'n/a'}.`,
    '',
    ...simUsageLines(r.window.sim),
    '',
    r.complete
      ? 'Complete.'
      : '**Incomplete**: not every agent connected, or alive agents are not online in Postgres.',
    '',
  ].join('\n');
}
