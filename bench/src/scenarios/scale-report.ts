/** The `scale` report (ScaleReport), its derived figures (scaleFigures) and Markdown (formatScaleMarkdown). */
import type { HostCpuUsage } from '../metrics/host-cpu.js';
import type { RssPeak } from '../metrics/rss-peak.js';
import { ratio, type Summary } from '../metrics/stats.js';
import type { Timeline } from '../metrics/timeline.js';
import { environmentLine } from '../report/markdown.js';
import type { Environment, PhaseUsage } from '../report/types.js';

export const SCALE_REPORT_SCHEMA = 'opamp-fleet/bench-scale@1';

/** CPU of one group of server processes over the heartbeat phase; null when none was read. */
export type GroupCpu = { processes: number; cpuSeconds: number; cpuPercent: number } | null;

/** A generator phase: its CPU and whether its busiest process was saturated. */
export type GeneratorPhase = PhaseUsage & { saturated: boolean };

/** RSS (summed over the processes) and CPU of the servers holding the fleet, read from /proc. */
export interface HeldFleet {
  processes: number;
  connected: number;
  rssBeforeBytes: number;
  rssAfterConnectBytes: number;
  /** (after connect - before) / connected. */
  rssPerConnectionBytes: number | null;
  cpuMicrosPerConnect: number | null;
  /** Agents / (last first reply - first dial). */
  connectRatePerSecond: number | null;
  /** First dial to the last agent's first reply. */
  fullFleetSeconds: number;
  generator: GeneratorPhase;
  /** Connected agents and replies per second, once a second, from the first dial to the full fleet. */
  timeline: Timeline;
}

export interface ScaleReport {
  schema: typeof SCALE_REPORT_SCHEMA;
  scenario: 'scale';
  startedAt: string;
  finishedAt: string;
  /** Every agent connected, every measured heartbeat answered, every agent online, baseline held. */
  complete: boolean;
  command: string;
  environment: Environment;
  /** 1-minute load average when the run ended. */
  loadAverageEnd1m: number;
  settings: {
    agents: number;
    gateways: number;
    workers: number;
    sweepers: number;
    heartbeatSeconds: number;
    jitter: number;
    durationSeconds: number;
    offlineTimeoutSeconds: number;
    dialConcurrency: number;
    agentsPerSourceAddress: number;
    agentsPerGenerator: number;
    generatorProcesses: number;
    /**
     * When the sweeper started, in seconds after the heartbeat stream began: at least one interval
     * (+ 10 % + 1 s), and until the stream had been answered once per agent (at most 5 intervals).
     * Absent in reports written before the wait for the first round.
     */
    sweeperStartSeconds?: number;
    /** Whether that first round was complete when the sweeper started (false: it started at the 5-interval bound). */
    sweeperStartAfterFirstRound?: boolean;
    redisKeyPrefix: string;
    database: string;
  };
  connect: {
    requested: number;
    connected: number;
    failed: number;
    dialErrors: Record<string, number>;
    handshakeMs: Summary;
    firstReplyMs: Summary;
  };
  heartbeats: {
    windowSeconds: number;
    sent: number;
    replied: number;
    unanswered: number;
    skippedInFlight: number;
    badReplies: number;
    unexpectedCloses: number;
    repliesPerSecond: number;
    /** Send -> ServerToAgent reply. */
    latencyMs: Summary;
    /** How late heartbeats left after they were due (the generator's own lag). */
    sendLagMs: Summary;
  };
  online: {
    expected: number;
    /** Agents with status 'online' in Postgres at the check (the run's database holds only them). */
    online: number;
    /**
     * From the end of the measured heartbeat phase (heartbeats go on during the check) until the
     * count was complete, or the check gave up.
     */
    waitedSeconds: number;
    /** Read when the check ended (absent in reports written before it was read). */
    atEnd?: {
      /** Agents of the run's database by stored status and status_reason, most first. */
      byStatus: Array<{ status: string; reason: string | null; agents: number }>;
      /** Worker processes, and those that answered the scrape (absent in older reports). */
      workers?: number;
      workersAnswered?: number;
      /** connection_opened events the workers that answered had written (null: none answered). */
      connectionOpenedWritten: number | null;
      /** Event batches queued for the workers, not yet taken (null: no worker answered). */
      eventJobsWaiting: number | null;
    };
  };
  gateway: HeldFleet & {
    rssAfterStreamBytes: number;
    /** (after the heartbeat phase - before) / connected, as `connect` reports it. */
    rssPerConnectionAfterStreamBytes: number | null;
    /**
     * Read every 2 s from the servers' start to the end of the online check (heartbeats going on
     * throughout): the peak a memory limit must hold, and what was resident at the end of the check.
     * Absent in reports written before it was measured.
     */
    rssOverRun?: RssPeak;
    generatorStream: GeneratorPhase;
    generatorRssBytes: number;
  };
  cpu: {
    gateways: GroupCpu;
    workers: GroupCpu;
    redis: GroupCpu;
    postgres: GroupCpu;
    host: HostCpuUsage;
    /** Server CPU (gateways + workers + Redis + Postgres) over `--duration` / heartbeats answered in it (at the window's rate). */
    serverMicrosPerHeartbeat: number | null;
  };
  /** The raw uWS echo processes holding the same agents (null with --no-baseline). */
  baseline: HeldFleet | null;
  /** Gateway / baseline, on the after-connect readings of both. */
  ratios: {
    rssPerConnection: number | null;
    connectRate: number | null;
    cpuPerConnect: number | null;
  } | null;
}

/** The ratios gateway / baseline. */
export function scaleRatios(gateway: HeldFleet, baseline: HeldFleet | null): ScaleReport['ratios'] {
  if (baseline === null) return null;
  return {
    rssPerConnection: ratio(gateway.rssPerConnectionBytes, baseline.rssPerConnectionBytes),
    connectRate: ratio(gateway.connectRatePerSecond, baseline.connectRatePerSecond),
    cpuPerConnect: ratio(gateway.cpuMicrosPerConnect, baseline.cpuMicrosPerConnect),
  };
}

const num = (v: number | null | undefined, digits = 0): string =>
  v == null || !Number.isFinite(v)
    ? 'n/a'
    : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const kib = (bytes: number | null | undefined): string => (bytes == null ? 'n/a' : num(bytes / 1024, 2));
const mib = (bytes: number): string => num(bytes / 1048576, 1);
const times = (v: number | null | undefined): string => (v == null ? 'n/a' : `${num(v, 2)}x`);
const cpu = (g: GroupCpu): string => (g === null ? 'n/a' : `${num(g.cpuPercent, 1)} % (${g.processes})`);
const gen = (g: GeneratorPhase): string =>
  `${num(g.cpuPercent)} % total, busiest process ${num(g.peakProcessCpuPercent)} %${g.saturated ? ' **saturated**' : ''}`;

function sweeperStarted(s: ScaleReport['settings']): string {
  if (s.sweeperStartSeconds === undefined) return '';
  const first = s.sweeperStartAfterFirstRound
    ? 'every agent answered once'
    : 'first round of replies incomplete';
  return `, started ${num(s.sweeperStartSeconds, 1)} s into the heartbeats: ${first}`;
}

/** Says so when only some workers answered the scrape at the end of the check (their sum is partial). */
export function partialScrape(end: NonNullable<ScaleReport['online']['atEnd']>): string {
  const { workers, workersAnswered } = end;
  if (workers === undefined || workersAnswered === undefined || workersAnswered === workers) return '';
  return ` (counted by ${workersAnswered} of ${workers} workers: the others did not answer their scrape)`;
}

/** The Markdown summary of a `scale` run. */
export function formatScaleMarkdown(r: ScaleReport): string {
  const s = r.settings;
  const e = r.environment;
  const g = r.gateway;
  const b = r.baseline;
  const hb = r.heartbeats;
  const lines = [
    `# scale: ${num(s.agents)} agents, ${s.gateways} gateway processes`,
    '',
    `${environmentLine(e)} · load at end ${num(r.loadAverageEnd1m, 2)}`,
    '',
    `${s.gateways} gateways (one port), ${s.workers} worker${s.workers === 1 ? '' : 's'}, ${s.sweepers} sweeper (offline timeout ${s.offlineTimeoutSeconds} s${sweeperStarted(s)}), ` +
      `heartbeat every ${s.heartbeatSeconds} s ± ${num(s.jitter * 100)} % for ${s.durationSeconds} s; ` +
      `${s.generatorProcesses} generator process(es), ${num(s.agentsPerSourceAddress)} agents per source address, ` +
      `${s.dialConcurrency} handshakes in flight in all. Complete: **${r.complete ? 'yes' : 'no'}**.`,
    '',
    '| | gateway | raw uWS echo | gateway / baseline |',
    '|---|---:|---:|---:|',
    `| agents connected | ${num(g.connected)} / ${num(s.agents)} | ${b ? num(b.connected) : 'n/a'} | |`,
    `| connect rate (agents/s) | ${num(g.connectRatePerSecond)} | ${num(b?.connectRatePerSecond)} | ${times(r.ratios?.connectRate)} |`,
    `| time to full fleet (s) | ${num(g.fullFleetSeconds, 1)} | ${b ? num(b.fullFleetSeconds, 1) : 'n/a'} | |`,
    `| server RSS before -> after connect (MiB) | ${mib(g.rssBeforeBytes)} -> ${mib(g.rssAfterConnectBytes)} | ${b ? `${mib(b.rssBeforeBytes)} -> ${mib(b.rssAfterConnectBytes)}` : 'n/a'} | |`,
    `| server RSS per connection after connect (KiB) | ${kib(g.rssPerConnectionBytes)} | ${kib(b?.rssPerConnectionBytes)} | ${times(r.ratios?.rssPerConnection)} |`,
    `| server CPU per connect (µs) | ${num(g.cpuMicrosPerConnect)} | ${num(b?.cpuMicrosPerConnect)} | ${times(r.ratios?.cpuPerConnect)} |`,
    `| generator CPU during connect | ${gen(g.generator)} | ${b ? gen(b.generator) : 'n/a'} | |`,
    '',
    `Heartbeat phase (${num(hb.windowSeconds, 1)} s measured):`,
    '',
    '| | |',
    '|---|---:|',
    `| heartbeats replied / sent | ${num(hb.replied)} / ${num(hb.sent)} (${num(hb.repliesPerSecond)}/s) |`,
    `| unanswered / skipped (previous unanswered) / bad replies / unexpected closes | ${num(hb.unanswered)} / ${num(hb.skippedInFlight)} / ${num(hb.badReplies)} / ${num(hb.unexpectedCloses)} |`,
    `| reply latency p50 / p90 / p99 / max (ms) | ${num(hb.latencyMs.p50, 2)} / ${num(hb.latencyMs.p90, 2)} / ${num(hb.latencyMs.p99, 2)} / ${num(hb.latencyMs.max, 1)} |`,
    `| generator send lag p99 (ms) | ${num(hb.sendLagMs.p99, 1)} |`,
    `| gateway RSS after the phase (MiB), per connection (KiB) | ${mib(g.rssAfterStreamBytes)}, ${kib(g.rssPerConnectionAfterStreamBytes)} |`,
    ...(g.rssOverRun
      ? [
          `| gateway RSS over the run, connect to the end of the online check (MiB): peak of all / of the largest process; all at the end | ${mib(g.rssOverRun.peakTotalBytes)} / ${mib(g.rssOverRun.peakProcessBytes)}; ${mib(g.rssOverRun.lastTotalBytes)} |`,
        ]
      : []),
    `| CPU: gateways / workers / Redis / Postgres (% of a core, processes) | ${cpu(r.cpu.gateways)} / ${cpu(r.cpu.workers)} / ${cpu(r.cpu.redis)} / ${cpu(r.cpu.postgres)} |`,
    `| server CPU per answered heartbeat (µs) | ${num(r.cpu.serverMicrosPerHeartbeat)} |`,
    `| host busy (% of all cores), CPU pressure | ${num(r.cpu.host.busyPercent, 1)} %, ${r.cpu.host.pressurePercent === null ? 'n/a' : `${num(r.cpu.host.pressurePercent, 1)} %`} |`,
    `| generator CPU during the phase, RSS | ${gen(g.generatorStream)}, ${mib(g.generatorRssBytes)} MiB |`,
    `| agents online in Postgres | ${num(r.online.online)} / ${num(r.online.expected)} (checked within ${num(r.online.waitedSeconds, 1)} s) |`,
    '',
  ];
  const end = r.online.atEnd;
  if (end) {
    const statuses = end.byStatus
      .map(
        (x) =>
          `${x.status}${x.reason === null ? ' (no status event yet)' : ` (${x.reason})`} ${num(x.agents)}`,
      )
      .join(', ');
    lines.push(
      `When the online check ended: agents by stored status ${statuses || 'none'}; connection_opened events written ${num(end.connectionOpenedWritten)} of ${num(r.connect.connected)} connections${partialScrape(end)}; event batches waiting for a worker ${num(end.eventJobsWaiting)}.`,
      '',
    );
  }
  const saturated = g.generator.saturated || g.generatorStream.saturated || (b?.generator.saturated ?? false);
  if (saturated) {
    lines.push(
      '> Warning: a generator process was saturated (>= 90 % of a core): connect rates are lower bounds and latencies upper bounds.',
      '',
    );
  }
  const errors = Object.entries(r.connect.dialErrors);
  if (errors.length > 0) {
    lines.push(`Dial errors: ${errors.map(([k, v]) => `${k} ${num(v)}`).join(', ')}.`, '');
  }
  lines.push(`Reproduce: \`${r.command}\``, '');
  return lines.join('\n');
}
