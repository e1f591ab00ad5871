import type { TargetKind } from '../args.js';
import type { ConnectOutcome, GeneratorUsage, RoundOutcome } from '../load/types.js';
import { ratio, summarize } from '../metrics/stats.js';
import type { Timeline } from '../metrics/timeline.js';
import { percentileCurve } from './svg.js';
import type { PhaseUsage, Ratios, TargetRun } from './types.js';

/** A generator process at or above this share of one core during a phase counts as saturated. */
export const SATURATION_THRESHOLD = 0.9;
/** Phases shorter than this are dominated by start-up work (JIT, first allocations): not judged. */
const SATURATION_MIN_WALL_SECONDS = 1;

/** Server-side readings taken around the phases (sums over the server's processes). */
export interface ServerSamples {
  processes: number;
  rssBeforeBytes: number;
  rssAfterConnectBytes: number;
  rssAfterBytes: number;
  cpuSecondsBefore: number;
  cpuSecondsAfterConnect: number;
  cpuSecondsAfter: number;
}

/** What one measurement produced, before any statistics. */
export interface RawTargetRun {
  target: TargetKind;
  url: string;
  settings: Record<string, string | number>;
  connect: ConnectOutcome;
  connectWallSeconds: number;
  /** The heartbeat phase, all rounds merged. */
  heartbeat: RoundOutcome;
  rounds: number;
  windowSeconds: number;
  heartbeatWallSeconds: number;
  server: ServerSamples | null;
  timeline: Timeline;
}

export function phaseUsage(usage: GeneratorUsage, wallSeconds: number): PhaseUsage {
  const percent = (cpu: number): number => (wallSeconds > 0 ? (cpu / wallSeconds) * 100 : 0);
  return {
    wallSeconds,
    cpuSeconds: usage.cpuSeconds,
    cpuPercent: percent(usage.cpuSeconds),
    peakProcessCpuPercent: percent(usage.peakProcessCpuSeconds),
  };
}

export function buildTargetRun(raw: RawTargetRun): TargetRun {
  const { connect, heartbeat, server } = raw;
  const durationSeconds = Math.max(0, (connect.lastReplyAt - connect.firstDialAt) / 1000);
  const connectUsage = phaseUsage(connect.usage, raw.connectWallSeconds);
  const heartbeatUsage = phaseUsage(heartbeat.usage, raw.heartbeatWallSeconds);
  const saturated = (usage: PhaseUsage): boolean =>
    usage.wallSeconds >= SATURATION_MIN_WALL_SECONDS &&
    usage.peakProcessCpuPercent >= SATURATION_THRESHOLD * 100;
  return {
    target: raw.target,
    url: raw.url,
    settings: raw.settings,
    connect: {
      requested: connect.requested,
      connected: connect.connected,
      failed: connect.failed,
      durationSeconds,
      ratePerSecond: ratio(connect.connected, durationSeconds),
      dialErrors: connect.dialErrors,
      badReplies: connect.badReplies,
      handshakeMs: summarize(connect.handshakeMs),
      firstReplyMs: summarize(connect.firstReplyMs),
    },
    heartbeat: {
      rounds: raw.rounds,
      windowSeconds: raw.windowSeconds,
      sent: heartbeat.sent,
      replied: heartbeat.replied,
      unanswered: heartbeat.unanswered,
      badReplies: heartbeat.badReplies,
      unexpectedCloses: heartbeat.unexpectedCloses,
      repliesPerSecond: ratio(heartbeat.replied, raw.heartbeatWallSeconds),
      latencyMs: summarize(heartbeat.latencyMs),
      latencyPercentilesMs: percentileCurve(heartbeat.latencyMs),
    },
    timeline: raw.timeline,
    server:
      server === null
        ? null
        : {
            processes: server.processes,
            rssBeforeBytes: server.rssBeforeBytes,
            rssAfterConnectBytes: server.rssAfterConnectBytes,
            rssAfterBytes: server.rssAfterBytes,
            rssPerConnectionBytes: ratio(server.rssAfterBytes - server.rssBeforeBytes, connect.connected),
            cpuSecondsConnect: server.cpuSecondsAfterConnect - server.cpuSecondsBefore,
            cpuSecondsHeartbeat: server.cpuSecondsAfter - server.cpuSecondsAfterConnect,
            cpuMicrosPerConnect: ratio(
              (server.cpuSecondsAfterConnect - server.cpuSecondsBefore) * 1e6,
              connect.connected,
            ),
            cpuMicrosPerHeartbeat: ratio(
              (server.cpuSecondsAfter - server.cpuSecondsAfterConnect) * 1e6,
              heartbeat.replied,
            ),
          },
    generator: {
      processes: connect.usage.processes,
      rssBytes: Math.max(connect.usage.rssBytes, heartbeat.usage.rssBytes),
      connect: connectUsage,
      heartbeat: heartbeatUsage,
      saturated: saturated(connectUsage) || saturated(heartbeatUsage),
    },
  };
}

export function buildRatios(gateway: TargetRun | null, baseline: TargetRun | null): Ratios | null {
  if (gateway === null || baseline === null) return null;
  return {
    connectRate: ratio(gateway.connect.ratePerSecond, baseline.connect.ratePerSecond),
    latencyP50: ratio(gateway.heartbeat.latencyMs.p50, baseline.heartbeat.latencyMs.p50),
    latencyP99: ratio(gateway.heartbeat.latencyMs.p99, baseline.heartbeat.latencyMs.p99),
    rssPerConnection: ratio(gateway.server?.rssPerConnectionBytes, baseline.server?.rssPerConnectionBytes),
    cpuPerConnect: ratio(gateway.server?.cpuMicrosPerConnect, baseline.server?.cpuMicrosPerConnect),
    cpuPerHeartbeat: ratio(gateway.server?.cpuMicrosPerHeartbeat, baseline.server?.cpuMicrosPerHeartbeat),
  };
}

/** True when the run connected every agent and every heartbeat got a valid reply. */
export function isComplete(run: TargetRun): boolean {
  return (
    run.connect.connected === run.connect.requested &&
    run.connect.badReplies === 0 &&
    run.heartbeat.unanswered === 0 &&
    run.heartbeat.badReplies === 0 &&
    run.heartbeat.replied === run.heartbeat.sent
  );
}
