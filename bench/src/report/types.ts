import type { TargetKind } from '../args.js';
import type { HostSpeed } from '../metrics/host-speed.js';
import type { Summary } from '../metrics/stats.js';
import type { Timeline } from '../metrics/timeline.js';
import type { Point } from './svg.js';

/** Generator CPU during one phase. Percentages are of one core (a sharded generator may exceed 100). */
export interface PhaseUsage {
  wallSeconds: number;
  cpuSeconds: number;
  cpuPercent: number;
  /** Busiest single generator process: near 100 means the generator, not the server, set the pace. */
  peakProcessCpuPercent: number;
}

/** Everything measured against one server (the gateway or the baseline). Latencies are in ms. */
export interface TargetRun {
  target: TargetKind;
  url: string;
  settings: Record<string, string | number>;
  connect: {
    requested: number;
    connected: number;
    failed: number;
    /** From the first dial to the last first reply. */
    durationSeconds: number;
    ratePerSecond: number | null;
    dialErrors: Record<string, number>;
    badReplies: number;
    handshakeMs: Summary;
    firstReplyMs: Summary;
  };
  heartbeat: {
    rounds: number;
    windowSeconds: number;
    sent: number;
    replied: number;
    unanswered: number;
    badReplies: number;
    unexpectedCloses: number;
    repliesPerSecond: number | null;
    latencyMs: Summary;
    /** `[percentile, ms]` at p0..p99.9 (svg.ts CURVE_PERCENTILES), for the latency chart. */
    latencyPercentilesMs: Point[];
  };
  /** Generator counters once a second from the first dial to the end of the heartbeat rounds. */
  timeline: Timeline;
  /** Null for an external target (its processes are not ours to measure). */
  server: {
    processes: number;
    rssBeforeBytes: number;
    rssAfterConnectBytes: number;
    rssAfterBytes: number;
    /** (RSS after the heartbeat phase - RSS before connecting) / connected agents. */
    rssPerConnectionBytes: number | null;
    cpuSecondsConnect: number;
    cpuSecondsHeartbeat: number;
    /** Server CPU per connected agent during the connect phase (handshake + first message), in µs. */
    cpuMicrosPerConnect: number | null;
    /** Server CPU per answered heartbeat during the heartbeat phase (background work included), in µs. */
    cpuMicrosPerHeartbeat: number | null;
  } | null;
  generator: {
    processes: number;
    rssBytes: number;
    connect: PhaseUsage;
    heartbeat: PhaseUsage;
    saturated: boolean;
  };
}

/** Gateway divided by baseline; null where either side is missing. */
export interface Ratios {
  connectRate: number | null;
  latencyP50: number | null;
  latencyP99: number | null;
  rssPerConnection: number | null;
  /** Server CPU per connect and per heartbeat: robust even when the generator sets the pace. */
  cpuPerConnect: number | null;
  cpuPerHeartbeat: number | null;
}

export interface Environment {
  date: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  os: string;
  nodeVersion: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  openFileLimit: number;
  /** 1-minute load average when the run started: other work on the box skews the numbers. */
  loadAverage1m: number;
  /** The calibration workload's timing before the run (absent in reports that predate it). */
  hostSpeed?: HostSpeed;
}

export const CONNECT_REPORT_SCHEMA = 'opamp-fleet/bench-connect@1';

export interface ConnectReport {
  schema: typeof CONNECT_REPORT_SCHEMA;
  /** `ws-vs-baseline`, or `connect` when run under its older name. */
  scenario: 'connect' | 'ws-vs-baseline';
  /** The command that reproduces this run (secrets removed). */
  command: string;
  startedAt: string;
  finishedAt: string;
  options: {
    agents: number;
    gateways: number;
    durationSeconds: number;
    rounds: number;
    dialConcurrency: number;
    agentsPerSourceAddress: number;
    agentsPerGenerator: number;
    target: string | null;
  };
  environment: Environment;
  gateway: TargetRun | null;
  baseline: TargetRun | null;
  ratios: Ratios | null;
  /** Every run connected all agents and got a valid reply to every heartbeat. */
  complete: boolean;
}
