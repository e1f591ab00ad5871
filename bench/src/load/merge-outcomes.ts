import { mergeTallies } from './dial-errors.js';
import type { ConnectOutcome, FleetCounters, GeneratorUsage, RoundOutcome, StreamOutcome } from './types.js';

/** Usage of several generator processes during the same phase. */
export function mergeUsage(usages: readonly GeneratorUsage[]): GeneratorUsage {
  return {
    processes: usages.reduce((n, u) => n + u.processes, 0),
    cpuSeconds: usages.reduce((n, u) => n + u.cpuSeconds, 0),
    peakProcessCpuSeconds: usages.reduce((n, u) => Math.max(n, u.peakProcessCpuSeconds), 0),
    rssBytes: usages.reduce((n, u) => n + u.rssBytes, 0),
  };
}

/** One connect outcome from the outcomes of disjoint slices of the fleet, plus the coordinator's usage. */
export function mergeConnectOutcomes(
  parts: readonly ConnectOutcome[],
  coordinator: GeneratorUsage,
): ConnectOutcome {
  return {
    requested: sum(parts, (p) => p.requested),
    connected: sum(parts, (p) => p.connected),
    failed: sum(parts, (p) => p.failed),
    firstDialAt: Math.min(...parts.map((p) => p.firstDialAt)),
    lastReplyAt: Math.max(...parts.map((p) => p.lastReplyAt)),
    dialErrors: mergeTallies(parts.map((p) => p.dialErrors)),
    handshakeMs: parts.flatMap((p) => p.handshakeMs),
    firstReplyMs: parts.flatMap((p) => p.firstReplyMs),
    badReplies: sum(parts, (p) => p.badReplies),
    usage: mergeUsage([...parts.map((p) => p.usage), coordinator]),
  };
}

/** One round outcome from the outcomes of disjoint slices of the fleet, plus the coordinator's usage. */
export function mergeRoundOutcomes(
  parts: readonly RoundOutcome[],
  coordinator: GeneratorUsage,
): RoundOutcome {
  return { ...sumRounds(parts), usage: mergeUsage([...parts.map((p) => p.usage), coordinator]) };
}

/** One stream outcome from the outcomes of disjoint slices of the fleet, plus the coordinator's usage. */
export function mergeStreamOutcomes(
  parts: readonly StreamOutcome[],
  coordinator: GeneratorUsage,
): StreamOutcome {
  return {
    sent: sum(parts, (p) => p.sent),
    replied: sum(parts, (p) => p.replied),
    unanswered: sum(parts, (p) => p.unanswered),
    skippedInFlight: sum(parts, (p) => p.skippedInFlight),
    badReplies: sum(parts, (p) => p.badReplies),
    unexpectedCloses: sum(parts, (p) => p.unexpectedCloses),
    latencyMs: parts.flatMap((p) => p.latencyMs),
    sendLagMs: parts.flatMap((p) => p.sendLagMs),
    windowStartedAt: Math.min(...parts.map((p) => p.windowStartedAt)),
    windowEndedAt: Math.max(...parts.map((p) => p.windowEndedAt)),
    lastAnswered: {
      ids: parts.flatMap((p) => p.lastAnswered.ids),
      sentAt: parts.flatMap((p) => p.lastAnswered.sentAt),
    },
    usage: mergeUsage([...parts.map((p) => p.usage), coordinator]),
  };
}

/**
 * Consecutive rounds of the same generator as one phase. CPU adds up; the peak per-process CPU is
 * the sum of each round's peak (exact for one process, an upper bound when sharded); RSS is the last.
 */
export function sequenceRoundOutcomes(rounds: readonly RoundOutcome[]): RoundOutcome {
  const usage: GeneratorUsage = {
    processes: rounds[0]?.usage.processes ?? 0,
    cpuSeconds: sum(rounds, (r) => r.usage.cpuSeconds),
    peakProcessCpuSeconds: sum(rounds, (r) => r.usage.peakProcessCpuSeconds),
    rssBytes: rounds.at(-1)?.usage.rssBytes ?? 0,
  };
  return { ...sumRounds(rounds), usage };
}

function sumRounds(parts: readonly RoundOutcome[]): Omit<RoundOutcome, 'usage'> {
  return {
    sent: sum(parts, (p) => p.sent),
    replied: sum(parts, (p) => p.replied),
    unanswered: sum(parts, (p) => p.unanswered),
    badReplies: sum(parts, (p) => p.badReplies),
    unexpectedCloses: sum(parts, (p) => p.unexpectedCloses),
    latencyMs: parts.flatMap((p) => p.latencyMs),
  };
}

export function mergeCounters(parts: readonly FleetCounters[]): FleetCounters {
  return {
    requested: sum(parts, (p) => p.requested),
    connected: sum(parts, (p) => p.connected),
    sent: sum(parts, (p) => p.sent),
    received: sum(parts, (p) => p.received),
    errors: sum(parts, (p) => p.errors),
  };
}

function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += pick(item);
  return total;
}
