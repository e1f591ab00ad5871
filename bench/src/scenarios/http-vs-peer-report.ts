/**
 * The `http-vs-peer` report: `buildHttpRun` (statistics of one server's measured window),
 * `buildHttpReport` (ratios ours / peer), `formatHttpMarkdown` and `httpCharts` (latency
 * distribution and answered polls per second over time, both servers).
 */
import { ratio, type Summary, summarize } from '../metrics/stats.js';
import { type Timeline, timelinePoints } from '../metrics/timeline.js';
import { environmentLine, fmt } from '../report/markdown.js';
import { latencyChart, lineChart, type Point, percentileCurve } from '../report/svg.js';
import type { Environment } from '../report/types.js';
import type { HttpLoadResult } from './http-vs-peer-load.js';

export const HTTP_REPORT_SCHEMA = 'opamp-fleet/bench-http-vs-peer@1';

/** CPU of a group of server processes over the window. */
export interface GroupCpu {
  processes: number;
  cpuSeconds: number;
}

export interface HttpRun {
  target: 'gateway' | 'peer';
  settings: Record<string, string | number>;
  agents: number;
  /** Agents with at least one valid reply by the end of the run. */
  agentsAnswered: number;
  windowSeconds: number;
  /** Valid replies (200, application/x-protobuf, decodes, same instance_uid) in the window. */
  polls: number;
  pollsPerSecond: number | null;
  errors: Record<string, number>;
  errorCount: number;
  latencyMs: Summary;
  latencyPercentilesMs: Point[];
  /** The server answering HTTP: the gateway processes, or the peer's one process. */
  server: (GroupCpu & { cpuMicrosPerPoll: number | null }) | null;
  /** Ours only: what the gateway's writes cost behind it (workers, Redis, Postgres backends). */
  backend: {
    workers: GroupCpu | null;
    redis: GroupCpu | null;
    postgres: GroupCpu | null;
    /** Gateway + workers + Redis + Postgres CPU per answered poll (µs). */
    totalCpuMicrosPerPoll: number | null;
  } | null;
  generator: { processes: number; cpuSeconds: number; cpuPercent: number | null };
  timeline: Timeline;
}

export interface HttpReport {
  schema: typeof HTTP_REPORT_SCHEMA;
  scenario: 'http-vs-peer';
  command: string;
  startedAt: string;
  finishedAt: string;
  options: {
    agents: number;
    generators: number;
    gateways: number;
    workers: number;
    rampSeconds: number;
    warmupSeconds: number;
    durationSeconds: number;
  };
  environment: Environment;
  peer: { package: string; version: string };
  gateway: HttpRun | null;
  peerRun: HttpRun | null;
  /** Ours / peer. */
  ratios: {
    pollsPerSecond: number | null;
    latencyP50: number | null;
    latencyP99: number | null;
    /** Gateway CPU per poll / peer CPU per poll. */
    serverCpuPerPoll: number | null;
    /** (Gateway + workers + Redis + Postgres) CPU per poll / peer CPU per poll. */
    totalCpuPerPoll: number | null;
  } | null;
  /** Target: ours answers at least as many polls per second as the peer (null without both runs). */
  oursAtLeastPeer: boolean | null;
  /** Every agent answered and no poll failed in either run. */
  complete: boolean;
}

export interface RawHttpRun {
  target: HttpRun['target'];
  settings: Record<string, string | number>;
  agents: number;
  windowSeconds: number;
  load: HttpLoadResult;
  server: GroupCpu | null;
  backend: { workers: GroupCpu | null; redis: GroupCpu | null; postgres: GroupCpu | null } | null;
  timeline: Timeline;
}

export function buildHttpRun(raw: RawHttpRun): HttpRun {
  const { load } = raw;
  const errorCount = Object.values(load.errors).reduce((n, c) => n + c, 0);
  const micros = (seconds: number): number | null => ratio(seconds * 1e6, load.polls);
  const backendSeconds = raw.backend
    ? [raw.backend.workers, raw.backend.redis, raw.backend.postgres].reduce(
        (n, g) => n + (g?.cpuSeconds ?? 0),
        0,
      )
    : 0;
  return {
    target: raw.target,
    settings: raw.settings,
    agents: raw.agents,
    agentsAnswered: load.agentsAnswered,
    windowSeconds: raw.windowSeconds,
    polls: load.polls,
    pollsPerSecond: ratio(load.polls, raw.windowSeconds),
    errors: load.errors,
    errorCount,
    latencyMs: summarize(load.latencyMs),
    latencyPercentilesMs: percentileCurve(load.latencyMs),
    server: raw.server === null ? null : { ...raw.server, cpuMicrosPerPoll: micros(raw.server.cpuSeconds) },
    backend:
      raw.backend === null
        ? null
        : { ...raw.backend, totalCpuMicrosPerPoll: micros((raw.server?.cpuSeconds ?? 0) + backendSeconds) },
    generator: {
      processes: load.processes,
      cpuSeconds: load.cpuSeconds,
      cpuPercent: ratio(load.cpuSeconds * 100, raw.windowSeconds),
    },
    timeline: raw.timeline,
  };
}

export function httpRatios(ours: HttpRun | null, peer: HttpRun | null): HttpReport['ratios'] {
  if (ours === null || peer === null) return null;
  return {
    pollsPerSecond: ratio(ours.pollsPerSecond, peer.pollsPerSecond),
    latencyP50: ratio(ours.latencyMs.p50, peer.latencyMs.p50),
    latencyP99: ratio(ours.latencyMs.p99, peer.latencyMs.p99),
    serverCpuPerPoll: ratio(ours.server?.cpuMicrosPerPoll, peer.server?.cpuMicrosPerPoll),
    totalCpuPerPoll: ratio(ours.backend?.totalCpuMicrosPerPoll, peer.server?.cpuMicrosPerPoll),
  };
}

export const isHttpRunComplete = (run: HttpRun): boolean =>
  run.agentsAnswered === run.agents && run.errorCount === 0 && run.polls > 0;

const COLUMNS = {
  gateway: 'ours: gateway (HTTP) + Redis + worker + Postgres',
  peer: 'peer: mockopampserver',
} as const;
const LABELS = { gateway: 'gateway (ours)', peer: 'mockopampserver' } as const;

export function formatHttpMarkdown(report: HttpReport): string {
  const runs = [report.gateway, report.peerRun].filter((r): r is HttpRun => r !== null);
  const r = report.ratios;
  const o = report.options;
  const row = (label: string, cell: (run: HttpRun) => string, ratioValue?: number | null): string =>
    `| ${label} | ${runs.map(cell).join(' | ')} |${r ? ` ${ratioValue == null ? '' : `${fmt(ratioValue, 2)}x`} |` : ''}`;
  const group = (g: GroupCpu | null | undefined): string => (g ? fmt(g.cpuSeconds, 2) : 'n/a');
  const lines = [
    `# http-vs-peer: ${fmt(o.agents)} HTTP agents polling in a closed loop, ours against ${report.peer.package} ${report.peer.version}`,
    '',
    environmentLine(report.environment),
    '',
    `Each agent keeps one request in flight over keep-alive connections (POST application/x-protobuf, instance_uid + sequence_num + capabilities 0x2001, agent_description first), from ${o.generators} generator process(es), agents starting over ${fmt(o.rampSeconds, 1)} s; ${fmt(o.warmupSeconds)} s warm-up, ${fmt(o.durationSeconds)} s measured. Ours: ${o.gateways} gateway process(es) writing presence to Redis and events through BullMQ to ${o.workers} worker(s) -> Postgres.`,
    '',
    `| | ${runs.map((run) => COLUMNS[run.target]).join(' | ')} |${r ? ' ours / peer |' : ''}`,
    `|---|${runs.map(() => '---:').join('|')}|${r ? '---:|' : ''}`,
    row('polls/s answered', (run) => fmt(run.pollsPerSecond), r?.pollsPerSecond),
    row('latency p50 (ms)', (run) => fmt(run.latencyMs.p50, 2), r?.latencyP50),
    row('latency p99 (ms)', (run) => fmt(run.latencyMs.p99, 2), r?.latencyP99),
    row('server CPU per poll (µs)', (run) => fmt(run.server?.cpuMicrosPerPoll), r?.serverCpuPerPoll),
    row('CPU s: workers / Redis / Postgres', (run) =>
      run.backend
        ? `${group(run.backend.workers)} / ${group(run.backend.redis)} / ${group(run.backend.postgres)}`
        : '-',
    ),
    row(
      'total server CPU per poll (µs)',
      (run) => fmt(run.backend?.totalCpuMicrosPerPoll ?? run.server?.cpuMicrosPerPoll),
      r?.totalCpuPerPoll,
    ),
    row('generator CPU (% of a core)', (run) => fmt(run.generator.cpuPercent)),
    row('agents answered', (run) => `${fmt(run.agentsAnswered)} / ${fmt(run.agents)}`),
    row(
      'errors',
      (run) =>
        Object.entries(run.errors)
          .map(([kind, n]) => `${kind} ${fmt(n)}`)
          .join('; ') || 'none',
    ),
    '',
  ];
  if (report.oursAtLeastPeer !== null) {
    lines.push(
      `Target ours >= peer in polls/s: ${report.oursAtLeastPeer ? 'met' : 'MISSED'} (${fmt(r?.pollsPerSecond, 2)}x).`,
      '',
    );
  }
  lines.push(`Reproduce: \`${report.command}\``, '');
  if (!report.complete) lines.push('**Incomplete run**: an agent got no answer or a poll failed.', '');
  return lines.join('\n');
}

export function httpCharts(report: HttpReport): Record<string, string> {
  const runs = [report.gateway, report.peerRun].filter((r): r is HttpRun => r !== null);
  const agents = fmt(report.options.agents);
  return {
    latency: latencyChart({
      title: `HTTP poll latency, ${agents} closed-loop agents: ours vs mockopampserver`,
      series: runs.map((run) => ({ label: LABELS[run.target], percentiles: run.latencyPercentilesMs })),
    }),
    throughput: lineChart({
      title: `HTTP polls answered per second (${agents} agents)`,
      xLabel: 'seconds since the agents started',
      yLabel: 'polls/s',
      series: runs.map((run) => ({
        label: LABELS[run.target],
        points: timelinePoints(run.timeline, 'repliesPerSecond'),
      })),
    }),
  };
}
