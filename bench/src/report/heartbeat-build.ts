import type { ConnectOutcome, StreamOutcome } from '../load/types.js';
import { bucketQuantileUpperBound } from '../metrics/histogram.js';
import type { HostCpuUsage } from '../metrics/host-cpu.js';
import { ratio, summarize } from '../metrics/stats.js';
import type { Timeline } from '../metrics/timeline.js';
import type { totals } from '../persistence/worker-metrics.js';
import { phaseUsage, SATURATION_THRESHOLD } from './build.js';
import {
  HEARTBEAT_REPORT_SCHEMA,
  HEARTBEAT_TARGETS,
  type HeartbeatThroughputReport as Report,
} from './heartbeat-types.js';
import { percentileCurve } from './svg.js';
import type { Environment } from './types.js';

/** Phases shorter than this are not judged for generator saturation (start-up work dominates). */
const SATURATION_MIN_WALL_SECONDS = 1;

/** A busier host than this (share of all cores) counts as CPU-saturated. */
const HOST_SATURATION_PERCENT = 90;

/** Server groups' CPU and the host's over the steady phase, as read around it. */
export type SteadyCpu = Pick<Report['cpu'], 'gateways' | 'workers' | 'redis' | 'postgres'> & {
  host: HostCpuUsage;
};

/** Everything a heartbeat-throughput run measured, before any statistics. */
export interface HeartbeatRawRun {
  command: string;
  startedAt: Date;
  finishedAt: Date;
  options: Report['options'];
  environment: Environment;
  servers: Report['servers'];
  connect: ConnectOutcome;
  warmup: Report['warmup'];
  steady: {
    wallSeconds: number;
    stream: StreamOutcome;
    /** The workers' lag gauge, sampled. */
    lagSamplesSeconds: number[];
    /** The lag read from Redis, sampled. */
    continuousLagSamplesSeconds: number[];
    /** Per sampled agent: Redis last-seen minus Postgres last_seen_at, in seconds. */
    postgresBehindSeconds: number[];
    /** Worker counters over the steady phase. */
    flush: ReturnType<typeof totals>;
    cpu: SteadyCpu;
  };
  freshness: Report['freshness'];
  baseline: Report['baseline'];
  timeline: Timeline;
}

const finiteOrNull = (n: number): number | null => (Number.isFinite(n) ? n : null);

export function buildHeartbeatReport(raw: HeartbeatRawRun): Report {
  const { connect, steady, options } = raw;
  const { stream, flush } = steady;
  // heartbeats are counted over the generator's own window, server counters between the two scrapes
  const streamMs = stream.windowEndedAt - stream.windowStartedAt;
  const seconds = streamMs > 0 ? streamMs / 1000 : steady.wallSeconds;
  const serverSeconds = steady.wallSeconds;
  const connectSeconds = Math.max(0, (connect.lastReplyAt - connect.firstDialAt) / 1000);
  const usage = phaseUsage(stream.usage, seconds);
  const lag = summarize(steady.lagSamplesSeconds);
  const continuousLag = summarize(steady.continuousLagSamplesSeconds);
  const judgedLag = continuousLag.count > 0 ? continuousLag : lag;
  const behind = summarize(steady.postgresBehindSeconds);
  const repliesPerSecond = ratio(stream.replied, seconds);
  const rowsPerSecond = ratio(flush.rows, serverSeconds);
  const delayRuns = flush.delayBuckets.at(-1)?.count ?? 0;
  const complete =
    connect.connected === connect.requested &&
    connect.badReplies === 0 &&
    stream.unanswered === 0 &&
    stream.badReplies === 0 &&
    raw.freshness.fresh === raw.freshness.agents;
  return {
    schema: HEARTBEAT_REPORT_SCHEMA,
    scenario: 'heartbeat-throughput',
    command: raw.command,
    startedAt: raw.startedAt.toISOString(),
    finishedAt: raw.finishedAt.toISOString(),
    options,
    environment: raw.environment,
    servers: raw.servers,
    connect: {
      requested: connect.requested,
      connected: connect.connected,
      failed: connect.failed,
      durationSeconds: connectSeconds,
      ratePerSecond: ratio(connect.connected, connectSeconds),
      dialErrors: connect.dialErrors,
      badReplies: connect.badReplies,
    },
    warmup: raw.warmup,
    timeline: raw.timeline,
    steady: {
      seconds,
      targetPerSecond: options.agents / options.heartbeatSeconds,
      sent: stream.sent,
      replied: stream.replied,
      unanswered: stream.unanswered,
      skippedInFlight: stream.skippedInFlight,
      badReplies: stream.badReplies,
      unexpectedCloses: stream.unexpectedCloses,
      sentPerSecond: ratio(stream.sent, seconds),
      repliesPerSecond,
      latencyMs: summarize(stream.latencyMs),
      sendLagMs: summarize(stream.sendLagMs),
      latencyPercentilesMs: percentileCurve(stream.latencyMs),
      sendLagPercentilesMs: percentileCurve(stream.sendLagMs),
    },
    flush: {
      lagSeconds: lag,
      continuousLagSeconds: continuousLag,
      postgresBehindSeconds: behind,
      delaySeconds: {
        runs: delayRuns,
        p50UpperBound: finiteOrNull(bucketQuantileUpperBound(flush.delayBuckets, 0.5)),
        p99UpperBound: finiteOrNull(bucketQuantileUpperBound(flush.delayBuckets, 0.99)),
      },
      runs: flush.runs,
      entries: flush.entries,
      rows: flush.rows,
      late: flush.late,
      seconds: serverSeconds,
      entriesPerSecond: ratio(flush.entries, serverSeconds),
      rowsPerSecond,
    },
    freshness: raw.freshness,
    cpu: {
      host: hostSummary(steady.cpu, stream.usage.cpuSeconds, serverSeconds, raw.environment.cpuCount),
      microsPerHeartbeat: microsPerHeartbeat(steady.cpu, stream.replied),
      gateways: steady.cpu.gateways,
      workers: steady.cpu.workers,
      redis: steady.cpu.redis,
      postgres: steady.cpu.postgres,
      generator: {
        ...usage,
        processes: stream.usage.processes,
        rssBytes: stream.usage.rssBytes,
        saturated:
          usage.wallSeconds >= SATURATION_MIN_WALL_SECONDS &&
          usage.peakProcessCpuPercent >= SATURATION_THRESHOLD * 100,
      },
    },
    baseline: raw.baseline,
    ratios: {
      heartbeatsVsRawUpdate: ratio(repliesPerSecond, raw.baseline.rawUpdate.rowsPerSecond),
      flushRowsVsRawUpdate: ratio(rowsPerSecond, raw.baseline.rawUpdate.rowsPerSecond),
    },
    targets: {
      heartbeatsPerSecond: {
        target: HEARTBEAT_TARGETS.heartbeatsPerSecond,
        measured: repliesPerSecond,
        met: repliesPerSecond !== null && repliesPerSecond >= HEARTBEAT_TARGETS.heartbeatsPerSecond,
      },
      flushLagP99Seconds: {
        target: HEARTBEAT_TARGETS.flushLagP99Seconds,
        measured: finiteOrNull(judgedLag.p99),
        met: Number.isFinite(judgedLag.p99) && judgedLag.p99 < HEARTBEAT_TARGETS.flushLagP99Seconds,
      },
      postgresBehindP99Seconds: {
        target: HEARTBEAT_TARGETS.flushLagP99Seconds,
        measured: finiteOrNull(behind.p99),
        met: Number.isFinite(behind.p99) && behind.p99 < HEARTBEAT_TARGETS.flushLagP99Seconds,
      },
    },
    complete,
  };
}

const GROUPS = ['gateways', 'workers', 'redis', 'postgres'] as const;

function hostSummary(
  cpu: SteadyCpu,
  generatorCpuSeconds: number,
  seconds: number,
  cores: number,
): Report['cpu']['host'] {
  const ours = GROUPS.reduce((n, g) => n + (cpu[g]?.cpuSeconds ?? 0), generatorCpuSeconds);
  const thisRunPercent = seconds > 0 && cores > 0 ? (ours / (seconds * cores)) * 100 : 0;
  return {
    ...cpu.host,
    thisRunPercent,
    otherWorkPercent: Math.max(0, cpu.host.busyPercent - thisRunPercent),
    saturated: cpu.host.busyPercent >= HOST_SATURATION_PERCENT,
  };
}

function microsPerHeartbeat(cpu: SteadyCpu, replied: number): Report['cpu']['microsPerHeartbeat'] {
  const per = (cpuSeconds: number | undefined): number | null =>
    cpuSeconds === undefined ? null : ratio(cpuSeconds * 1e6, replied);
  const read = GROUPS.filter((g) => cpu[g] !== null);
  return {
    gateways: per(cpu.gateways?.cpuSeconds),
    workers: per(cpu.workers?.cpuSeconds),
    redis: per(cpu.redis?.cpuSeconds),
    postgres: per(cpu.postgres?.cpuSeconds),
    total: read.length === 0 ? null : per(read.reduce((n, g) => n + cpu[g]!.cpuSeconds, 0)),
  };
}
