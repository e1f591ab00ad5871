/**
 * Live counters of simulator processes (`SimCounters`, all cumulative except the `connected`/
 * `agents` gauges) and their merge over processes (`mergeSimCounters`).
 */
import { mergeTallies } from '../load/dial-errors.js';

/** CPU and memory of one simulator process. */
export interface SimProcessUsage {
  pid: number;
  /** user + system CPU since the process started, seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

export interface SimCounters {
  /** Agents alive (neither left nor silently dead). */
  agents: number;
  /** Agents created over plain HTTP (each is one HTTP session for the server). */
  startedHttp: number;
  /** Agents whose last exchange worked (WS: open and answered; HTTP: last poll answered). */
  connected: number;
  connectedHttp: number;
  /** Connections established (first reply on a new WebSocket; first answered poll of an HTTP agent or after a failure). */
  connects: number;
  connectsWs: number;
  /** Connections re-established after a drop. */
  reconnects: number;
  /** Connections lost without the agent asking (server close, failed poll, refused dial). */
  drops: number;
  sent: number;
  answered: number;
  /** Heartbeats not sent because the previous message was still unanswered. */
  skipped: number;
  errors: number;
  fullStateRequested: number;
  /** Full states sent because the server asked (ReportFullState). */
  fullStateSent: number;
  uidChanges: number;
  goodbyes: number;
  deaths: number;
  joins: number;
  /** Drops by WebSocket close (`code reason`) or failure kind (`ECONNREFUSED`, `http-503`, ...). */
  dropKinds: Record<string, number>;
  errorKinds: Record<string, number>;
}

export function emptyCounters(): SimCounters {
  return {
    agents: 0,
    startedHttp: 0,
    connected: 0,
    connectedHttp: 0,
    connects: 0,
    connectsWs: 0,
    reconnects: 0,
    drops: 0,
    sent: 0,
    answered: 0,
    skipped: 0,
    errors: 0,
    fullStateRequested: 0,
    fullStateSent: 0,
    uidChanges: 0,
    goodbyes: 0,
    deaths: 0,
    joins: 0,
    dropKinds: {},
    errorKinds: {},
  };
}

type NumericKey = { [K in keyof SimCounters]: SimCounters[K] extends number ? K : never }[keyof SimCounters];

/** Sums counters of several processes. */
export function mergeSimCounters(parts: readonly SimCounters[]): SimCounters {
  const merged = emptyCounters();
  for (const part of parts) {
    for (const key of Object.keys(merged) as (keyof SimCounters)[]) {
      if (typeof merged[key] === 'number') merged[key as NumericKey] += part[key as NumericKey];
    }
  }
  merged.dropKinds = mergeTallies(parts.map((p) => p.dropKinds));
  merged.errorKinds = mergeTallies(parts.map((p) => p.errorKinds));
  return merged;
}

/** This process's usage now. */
export function ownUsage(): SimProcessUsage {
  const { user, system } = process.cpuUsage();
  return { pid: process.pid, cpuSeconds: (user + system) / 1e6, rssBytes: process.memoryUsage.rss() };
}
