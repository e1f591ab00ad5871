/**
 * Phases every simulator scenario runs: `connectFleet` (dial everyone, wait until connected) and
 * `measureWindow` (counters, latency samples, simulator and server usage over a window in which
 * `body` runs).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimCounters } from './counters.js';
import { type LatencyReport, latencyReport, type SimReportPart, simReportPart } from './report-kit.js';
import { type RoleUsage, snapshotUsage, usageSince } from './server-usage.js';
import type { Simulator } from './simulator.js';
import type { SimTimeline } from './timeline.js';

export interface ConnectResult {
  connected: number;
  /** From the first dial until every agent connected (or the wait gave up). */
  seconds: number;
}

/** Starts every agent and waits until all are connected, at most `timeoutMs` after the dials. */
export async function connectFleet(
  sim: Simulator,
  agents: number,
  timeoutMs: number,
): Promise<ConnectResult> {
  const start = performance.now();
  await sim.start();
  await sim.waitFor((c) => c.connected >= agents, timeoutMs);
  return { connected: sim.counters().connected, seconds: (performance.now() - start) / 1000 };
}

/** Generous time to connect `agents` on a busy 2-core box. */
export function connectTimeoutMs(agents: number): number {
  return 60_000 + agents * 5;
}

export interface WindowResult {
  seconds: number;
  /** Counter deltas over the window (gauges: values at the end). */
  delta: SimCounters;
  /** Send -> reply, all agents. */
  latency: LatencyReport;
  latencyByTransport: { ws: LatencyReport; http: LatencyReport };
  reconnectLatency: LatencyReport;
  sim: SimReportPart;
  servers: Record<string, RoleUsage>;
}

/**
 * Marks the window start (clears samples), runs `body` (default: waits `seconds`), then reads
 * everything. `roles` lists the server pids to measure by role.
 */
export async function measureWindow(
  sim: Simulator,
  timeline: SimTimeline,
  roles: () => Record<string, readonly number[]>,
  seconds: number,
  body: () => Promise<void> = () => sleep(seconds * 1000),
): Promise<WindowResult> {
  await sim.mark();
  const before = sim.counters();
  const simBefore = sim.usage();
  const pidsBefore = roles();
  const snapshots = new Map<string, Awaited<ReturnType<typeof snapshotUsage>>>();
  for (const [role, pids] of Object.entries(pidsBefore)) snapshots.set(role, await snapshotUsage(pids));
  const start = performance.now();
  await body();
  const elapsed = (performance.now() - start) / 1000;
  const after = sim.counters();
  const servers: Record<string, RoleUsage> = {};
  for (const [role, pids] of Object.entries(roles())) {
    servers[role] = await usageSince(snapshots.get(role) ?? new Map(), pids, elapsed);
  }
  const samples = await sim.samples();
  return {
    seconds: elapsed,
    delta: counterDelta(before, after),
    latency: latencyReport([...samples.latencyMs.ws, ...samples.latencyMs.http]),
    latencyByTransport: {
      ws: latencyReport(samples.latencyMs.ws),
      http: latencyReport(samples.latencyMs.http),
    },
    reconnectLatency: latencyReport(samples.reconnectMs),
    sim: simReportPart(timeline.summary(simBefore, elapsed), after),
    servers,
  };
}

/** `after - before` for cumulative counters; gauges (agents, connected) as of `after`. */
export function counterDelta(before: SimCounters, after: SimCounters): SimCounters {
  const delta = { ...after, dropKinds: { ...after.dropKinds }, errorKinds: { ...after.errorKinds } };
  for (const key of Object.keys(after) as (keyof SimCounters)[]) {
    const value = after[key];
    if (typeof value !== 'number' || key === 'agents' || key === 'connected' || key === 'connectedHttp')
      continue;
    (delta as Record<string, unknown>)[key] = value - (before[key] as number);
  }
  for (const [kind, n] of Object.entries(before.dropKinds))
    delta.dropKinds[kind] = (delta.dropKinds[kind] ?? 0) - n;
  for (const [kind, n] of Object.entries(before.errorKinds))
    delta.errorKinds[kind] = (delta.errorKinds[kind] ?? 0) - n;
  for (const t of [delta.dropKinds, delta.errorKinds])
    for (const [k, n] of Object.entries(t)) if (n === 0) delete t[k];
  return delta;
}
