import type { Summary } from '../metrics/stats.js';
import type { Timeline } from '../metrics/timeline.js';
import type { Point } from './svg.js';
import type { Environment, PhaseUsage } from './types.js';

export const HEARTBEAT_REPORT_SCHEMA = 'opamp-fleet/bench-heartbeat-throughput@2';

/** Targets of the persistence milestone on a 2-core box; reported, never enforced. */
export const HEARTBEAT_TARGETS = { heartbeatsPerSecond: 20_000, flushLagP99Seconds: 2 } as const;

/** CPU of a group of server processes during the steady phase; null when they could not be read. */
export interface ServerCpu {
  processes: number;
  cpuSeconds: number;
  /** Percent of one core over the steady phase. */
  cpuPercent: number;
}

/** A raw batched last-seen UPDATE measured directly against the bench database. */
export interface UpdateBaseline {
  statement: string;
  statements: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number | null;
  statementMs: Summary;
}

export interface TargetCheck {
  target: number;
  measured: number | null;
  met: boolean;
}

export interface HeartbeatThroughputReport {
  schema: typeof HEARTBEAT_REPORT_SCHEMA;
  scenario: 'heartbeat-throughput';
  /** The command that reproduces this run. */
  command: string;
  startedAt: string;
  finishedAt: string;
  options: {
    agents: number;
    gateways: number;
    workers: number;
    heartbeatSeconds: number;
    jitter: number;
    durationSeconds: number;
    warmupSeconds: number;
    baselineSeconds: number;
    dialConcurrency: number;
    agentsPerSourceAddress: number;
    agentsPerGenerator: number;
  };
  environment: Environment;
  /** Server settings (no URLs: they may hold passwords). */
  servers: {
    redisKeyPrefix: string;
    database: string;
    gateway: Record<string, string | number>;
    worker: Record<string, string | number>;
  };
  connect: {
    requested: number;
    connected: number;
    failed: number;
    durationSeconds: number;
    ratePerSecond: number | null;
    dialErrors: Record<string, number>;
    badReplies: number;
  };
  warmup: {
    seconds: number;
    /** connection_opened events the workers had written when the steady phase began. */
    connectionEventsWritten: number;
    /** Whether every connection event was written before the steady phase (else it overlapped). */
    eventsDrained: boolean;
    /** The flush lag read from Redis when the steady phase began. */
    flushLagSeconds: number | null;
    /** Whether that lag was below 5 s (the flush had caught up with the connect phase). */
    flushCaughtUp: boolean;
  };
  steady: {
    /** The generator's measured window (first mark to last stop over its processes). */
    seconds: number;
    /** agents / heartbeat interval. */
    targetPerSecond: number;
    sent: number;
    replied: number;
    unanswered: number;
    skippedInFlight: number;
    badReplies: number;
    unexpectedCloses: number;
    sentPerSecond: number | null;
    /** Heartbeats answered per second: the end-to-end throughput. */
    repliesPerSecond: number | null;
    latencyMs: Summary;
    /** Generator lag: how late heartbeats left after they were due. */
    sendLagMs: Summary;
    /** `[percentile, ms]` at p0..p99.9 of the reply latency and of the send lag, for the chart. */
    latencyPercentilesMs: Point[];
    sendLagPercentilesMs: Point[];
  };
  /** Generator counters once a second from the first dial to the end of the stream. */
  timeline: Timeline;
  flush: {
    /**
     * The workers' flush lag gauge sampled every 250 ms during the steady phase. The worker sets it
     * when a flush run starts, where the lag is lowest: it grows during a run until the run moves
     * the watermark.
     */
    lagSeconds: Summary;
    /**
     * The same lag read from Redis every 250 ms (Redis time minus the oldest last-seen above the
     * flush watermark), so also while runs are in progress. The flush lag target is judged on it.
     */
    continuousLagSeconds: Summary;
    /**
     * How far Postgres is behind Redis, per agent (its last-seen in Redis minus agents.last_seen_at),
     * over 1,000 random agents read every second: the staleness a reader of Postgres sees. The lag
     * above cannot show it: while every agent heartbeats, the oldest unflushed score is never older
     * than about one heartbeat interval, however long a flush run takes.
     */
    postgresBehindSeconds: Summary;
    /** Per-run delay histogram over the steady phase: bucket upper bounds holding p50 and p99. */
    delaySeconds: { runs: number; p50UpperBound: number | null; p99UpperBound: number | null };
    runs: number;
    entries: number;
    rows: number;
    /**
     * Of `entries`, those taken from the late last-seen set: touches the gateways wrote 500 ms or more
     * after seeing the agent (held up by a busy host), which the flush's re-read window could miss.
     */
    late: number;
    /** Between the two scrapes of the workers around the steady phase (also the span of server CPU). */
    seconds: number;
    entriesPerSecond: number | null;
    /** Postgres rows written by the flush per second of the steady phase. */
    rowsPerSecond: number | null;
  };
  /** agents.last_seen_at against each agent's last answered heartbeat, after the steady phase. */
  freshness: {
    agents: number;
    /** Agents with at least one answered heartbeat. */
    withHeartbeat: number;
    fresh: number;
    /** fresh / agents. */
    freshFraction: number;
    /** An agent is fresh when last_seen_at >= its last answered heartbeat's send time - tolerance. */
    toleranceMs: number;
    /** Agents with a heartbeat but no row or a NULL last_seen_at. */
    missing: number;
    /**
     * Agents not fresh in Postgres whose last-seen in Redis is fresh: the gateway wrote their last
     * heartbeat, the flush did not carry it (yet). The rest of the stale ones never reached Redis.
     */
    staleFreshInRedis: number;
    /** From the end of the steady phase to the check that found every agent fresh (or gave up). */
    waitedSeconds: number;
    /** Last answered heartbeat's send time - last_seen_at (positive: Postgres is behind). */
    stalenessMs: Summary;
  };
  cpu: {
    /** The whole host over the steady phase: is the box itself the limit? */
    host: {
      /** Busy share of all cores (100 = every core busy). */
      busyPercent: number;
      stealPercent: number;
      /** Share of the time some task waited for a CPU (Linux PSI); null where unavailable. */
      pressurePercent: number | null;
      /** Share of all cores used by this run's processes (servers read here + generator). */
      thisRunPercent: number;
      /** busyPercent - thisRunPercent: other work on the box (and servers not read). */
      otherWorkPercent: number;
      /** busyPercent >= 90: the box was CPU-bound, every figure is a lower bound of the software's capacity. */
      saturated: boolean;
    };
    /** Server CPU per answered heartbeat, in µs (total: the groups that could be read). */
    microsPerHeartbeat: {
      gateways: number | null;
      workers: number | null;
      redis: number | null;
      postgres: number | null;
      total: number | null;
    };
    gateways: ServerCpu | null;
    workers: ServerCpu | null;
    redis: ServerCpu | null;
    /** Backends connected to the bench database (the workers' pools); WAL writer etc. excluded. */
    postgres: ServerCpu | null;
    generator: PhaseUsage & { processes: number; rssBytes: number; saturated: boolean };
  };
  baseline: {
    /** Rows in agents when the baselines ran (the fleet's agents). */
    tableRows: number;
    chunkSize: number;
    rawUpdate: UpdateBaseline;
    /** The flush's own statement (flushLastSeen: insert ... on conflict), called directly. */
    flushStatement: UpdateBaseline;
  };
  ratios: {
    /** End-to-end heartbeats/s / raw UPDATE rows/s. */
    heartbeatsVsRawUpdate: number | null;
    /** Flush rows/s / raw UPDATE rows/s. */
    flushRowsVsRawUpdate: number | null;
  };
  targets: {
    heartbeatsPerSecond: TargetCheck;
    /** Judged on the continuous lag (the gauge samples when there are none). */
    flushLagP99Seconds: TargetCheck;
    /** The same 2 s applied to how far Postgres is behind Redis: what a reader of Postgres sees. */
    postgresBehindP99Seconds: TargetCheck;
  };
  /** Every agent connected, every measured heartbeat was answered validly, every agent is fresh. */
  complete: boolean;
}
