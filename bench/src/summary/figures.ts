/**
 * The headline figures of each scenario, read from its JSON report by path: what the results table
 * of `pnpm bench summary` (and the README) shows. A figure whose path is missing in a report is
 * left out, so older reports still summarize.
 */

import { OPEN_LOOP_RATES } from '../scenarios/api-latency-report.js';

/** How a value is printed. */
export type Unit = 'count' | 'rate' | 'ms' | 's' | 'kib' | 'mib' | 'us' | 'percent';

export interface FigureSpec {
  /** What the row says, e.g. "connect rate (agents/s)". */
  label: string;
  /** Dotted path of our value in the report (array items by index: `cases.0.p99`). */
  value: string;
  /** Path of the same-run baseline's value, when the scenario has one. */
  baseline?: string;
  unit: Unit;
  /** The target, as text, and the path of a boolean saying whether it was met. */
  target?: { text: string; met?: string };
}

/** Figures for a case list (offline-detection): one row per case, labelled from the case. */
export interface CaseFigureSpec {
  /** Path of the array of cases. */
  cases: string;
  /** Row label from a case. */
  label: (item: Record<string, unknown>) => string;
  figures: FigureSpec[];
}

export const FIGURES: Record<string, Array<FigureSpec | CaseFigureSpec>> = {
  'ws-vs-baseline': [
    {
      label: 'agents connected',
      value: 'gateway.connect.connected',
      baseline: 'baseline.connect.connected',
      unit: 'count',
    },
    {
      label: 'connect rate (agents/s)',
      value: 'gateway.connect.ratePerSecond',
      baseline: 'baseline.connect.ratePerSecond',
      unit: 'rate',
    },
    {
      label: 'heartbeat latency p50',
      value: 'gateway.heartbeat.latencyMs.p50',
      baseline: 'baseline.heartbeat.latencyMs.p50',
      unit: 'ms',
    },
    {
      label: 'heartbeat latency p99',
      value: 'gateway.heartbeat.latencyMs.p99',
      baseline: 'baseline.heartbeat.latencyMs.p99',
      unit: 'ms',
    },
    {
      label: 'RSS per held connection',
      value: 'gateway.server.rssPerConnectionBytes',
      baseline: 'baseline.server.rssPerConnectionBytes',
      unit: 'kib',
    },
    {
      label: 'server CPU per heartbeat',
      value: 'gateway.server.cpuMicrosPerHeartbeat',
      baseline: 'baseline.server.cpuMicrosPerHeartbeat',
      unit: 'us',
    },
  ],
  'heartbeat-throughput': [
    {
      label: 'heartbeats answered end to end (/s)',
      value: 'steady.repliesPerSecond',
      unit: 'rate',
      target: { text: '>= 20,000/s', met: 'targets.heartbeatsPerSecond.met' },
    },
    {
      label: 'flush lag p99 (Redis -> Postgres, read from Redis)',
      value: 'targets.flushLagP99Seconds.measured',
      unit: 's',
      target: { text: '< 2 s', met: 'targets.flushLagP99Seconds.met' },
    },
    {
      label: 'Postgres rows/s (flush) vs raw unnest UPDATE',
      value: 'flush.rowsPerSecond',
      baseline: 'baseline.rawUpdate.rowsPerSecond',
      unit: 'rate',
    },
  ],
  'offline-detection': [
    {
      cases: 'cases',
      label: (c) =>
        `${String(c.profile)} ${String(c.mode)}, ${Number(c.agents).toLocaleString('en-US')} agents`,
      figures: [
        { label: 'offline after the last message p99', value: 'fromLastMessageMs.p99', unit: 'ms' },
        { label: 'offline after the deadline p99', value: 'fromDeadlineMs.p99', unit: 'ms' },
      ],
    },
  ],
  'connect-storm': [
    {
      label: 'time to full fleet',
      value: 'gateway.timeToFullFleetSeconds',
      baseline: 'baseline.timeToFullFleetSeconds',
      unit: 's',
    },
    { label: 'upgrades refused (503 + Retry-After)', value: 'gateway.refused503', unit: 'count' },
    {
      label: 'server CPU per connect',
      value: 'gateway.server.cpuMicrosPerConnect',
      baseline: 'baseline.server.cpuMicrosPerConnect',
      unit: 'us',
    },
  ],
  'steady-state': [
    {
      label: 'messages answered (/s)',
      value: 'gateway.msgsPerSecond',
      baseline: 'baseline.msgsPerSecond',
      unit: 'rate',
    },
    {
      label: 'server CPU per message',
      value: 'gateway.serverCpuMicrosPerMessage',
      baseline: 'baseline.serverCpuMicrosPerMessage',
      unit: 'us',
    },
    { label: 'agents online in Postgres', value: 'gateway.onlineInPostgres', unit: 'count' },
    {
      label: 'false offline transitions',
      value: 'gateway.falseOfflineTransitions.count',
      unit: 'count',
      target: { text: '0' },
    },
  ],
  churn: [
    { label: 'connects per minute', value: 'achieved.connectsPerMinute', unit: 'count' },
    { label: 'graceful leavers offline', value: 'offline.graceful.reachedOffline', unit: 'count' },
    { label: 'silent leavers offline', value: 'offline.silent.reachedOffline', unit: 'count' },
    {
      label: 'false offline transitions',
      value: 'falseOfflineTransitions',
      unit: 'count',
      target: { text: '0' },
    },
  ],
  'rolling-restart': [
    {
      label: 'all agents back after the slowest restart',
      value: 'gateway.worstAllReconnectedSeconds',
      baseline: 'baseline.worstAllReconnectedSeconds',
      unit: 's',
    },
    {
      label: 'reconnect latency p99',
      value: 'gateway.reconnectLatency.summary.p99',
      baseline: 'baseline.reconnectLatency.summary.p99',
      unit: 'ms',
    },
    {
      label: 'false offline transitions',
      value: 'gateway.falseOffline.count',
      unit: 'count',
      target: { text: '0' },
    },
  ],
  'api-latency': (
    [
      ['status', OPEN_LOOP_RATES.status.unit],
      ['offline page (100)', OPEN_LOOP_RATES.offline.unit],
    ] as const
  ).flatMap(([name, unit], i): CaseFigureSpec[] => [
    {
      cases: `endpoints.${i}.rates`,
      label: (r) => `${name}, ${String(r.ratePerSecond)} ${unit} offered${r.reference ? ' (reference)' : ''}`,
      figures: [
        {
          label: 'p99',
          value: 'api.latencyMs.p99',
          baseline: 'raw.latencyMs.p99',
          unit: 'ms',
          target: { text: '< 10 ms', met: 'target.met' },
        },
        {
          label: 'requests over 10 ms as timed inside the API',
          value: 'api.insideApi.overLimitShare',
          unit: 'percent',
        },
      ],
    },
    {
      cases: `endpoints.${i}.levels`,
      label: (level) => `${name}, ${String(level.concurrency)} concurrent (closed loop)`,
      figures: [
        {
          label: 'p99',
          value: 'api.latencyMs.p99',
          baseline: 'raw.latencyMs.p99',
          unit: 'ms',
        },
        {
          label: 'requests/s',
          value: 'api.requestsPerSecond',
          baseline: 'raw.requestsPerSecond',
          unit: 'rate',
        },
      ],
    },
  ]),
  'http-vs-peer': [
    {
      label: 'polls answered (/s)',
      value: 'gateway.pollsPerSecond',
      baseline: 'peerRun.pollsPerSecond',
      unit: 'rate',
      target: { text: '>= peer', met: 'oursAtLeastPeer' },
    },
    {
      label: 'poll latency p99',
      value: 'gateway.latencyMs.p99',
      baseline: 'peerRun.latencyMs.p99',
      unit: 'ms',
    },
    {
      label: 'server CPU per poll',
      value: 'gateway.server.cpuMicrosPerPoll',
      baseline: 'peerRun.server.cpuMicrosPerPoll',
      unit: 'us',
    },
  ],
  scale: [
    {
      label: 'WebSocket agents held',
      value: 'gateway.connected',
      baseline: 'baseline.connected',
      unit: 'count',
    },
    { label: 'agents online in Postgres', value: 'online.online', unit: 'count' },
    {
      label: 'RSS per held connection',
      value: 'gateway.rssPerConnectionBytes',
      baseline: 'baseline.rssPerConnectionBytes',
      unit: 'kib',
      target: { text: '<= 4 KB' },
    },
    {
      label: 'gateway RSS peak over the run, all gateways',
      value: 'gateway.rssOverRun.peakTotalBytes',
      unit: 'mib',
    },
    {
      label: 'gateway RSS peak over the run, largest gateway',
      value: 'gateway.rssOverRun.peakProcessBytes',
      unit: 'mib',
    },
    { label: 'heartbeat latency p99', value: 'heartbeats.latencyMs.p99', unit: 'ms' },
    {
      label: 'time to full fleet',
      value: 'gateway.fullFleetSeconds',
      baseline: 'baseline.fullFleetSeconds',
      unit: 's',
    },
  ],
};
