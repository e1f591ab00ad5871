/**
 * The restart loop of the rolling-restart scenario, shared by the gateway run and the uWS echo
 * baseline: stop server `i` (SIGTERM, until it exited), start a new one on the same port, and
 * measure the agents dropped and the time from SIGTERM until every agent is connected again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimCounters } from '../sim/counters.js';
import { type LatencyReport, latencyReport } from '../sim/report-kit.js';
import type { Simulator } from '../sim/simulator.js';

/** Servers that can be restarted one at a time on a shared port. */
export interface Restartable {
  count: number;
  stop(index: number): Promise<void>;
  start(index: number): Promise<void>;
}

export interface RestartResult {
  server: number;
  /** Epoch ms of the SIGTERM. */
  atMs: number;
  /** SIGTERM -> exit (the gateway's drain). */
  stopSeconds: number;
  /** Exit -> the new process ready. */
  startSeconds: number;
  /** Connections lost (closed by the server, or dials that failed while reconnecting). */
  drops: number;
  reconnects: number;
  /** SIGTERM -> every agent connected again, once the old process exited; null when that did not happen in time. */
  allReconnectedSeconds: number | null;
  dropKinds: Record<string, number>;
  /** Drop -> first reply on the new connection, ms. */
  reconnectLatency: LatencyReport;
}

const POLL_MS = 50;

/** Restarts every server in turn, `settleSeconds` apart; `timeoutSeconds` bounds each reconnect wait. */
export async function rollingRestart(
  sim: Simulator,
  servers: Restartable,
  agents: number,
  settleSeconds: number,
  timeoutSeconds: number,
  progress: (line: string) => void,
): Promise<{ restarts: RestartResult[]; reconnectMs: number[] }> {
  const restarts: RestartResult[] = [];
  const reconnectMs: number[] = [];
  for (let i = 0; i < servers.count; i++) {
    await sim.mark();
    const before = sim.counters();
    const atMs = Date.now();
    const t0 = performance.now();
    let stoppedAt: number | null = null;
    const stopping = servers.stop(i).then(() => {
      stoppedAt = performance.now();
    });
    let allBackAt: number | null = null;
    while (performance.now() - t0 < timeoutSeconds * 1000) {
      if (stoppedAt !== null && sim.counters().connected >= agents) {
        allBackAt = performance.now();
        break;
      }
      await sleep(POLL_MS);
    }
    await stopping;
    const stopSeconds = ((stoppedAt ?? t0) - t0) / 1000;
    const startAt = performance.now();
    await servers.start(i);
    const startSeconds = (performance.now() - startAt) / 1000;
    if (allBackAt === null) allBackAt = await waitAllBack(sim, agents, t0, timeoutSeconds);
    await sleep(settleSeconds * 1000);
    const after = sim.counters();
    const samples = await sim.samples();
    reconnectMs.push(...samples.reconnectMs);
    const result: RestartResult = {
      server: i + 1,
      atMs,
      stopSeconds,
      startSeconds,
      drops: after.drops - before.drops,
      reconnects: after.reconnects - before.reconnects,
      allReconnectedSeconds: allBackAt === null ? null : (allBackAt - t0) / 1000,
      dropKinds: tallyDelta(before, after),
      reconnectLatency: latencyReport(samples.reconnectMs),
    };
    restarts.push(result);
    progress(
      `restart ${i + 1}/${servers.count}: ${result.drops} dropped, all back after ${
        result.allReconnectedSeconds === null ? 'timeout' : `${result.allReconnectedSeconds.toFixed(2)} s`
      } (drain ${stopSeconds.toFixed(2)} s)`,
    );
  }
  return { restarts, reconnectMs };
}

async function waitAllBack(
  sim: Simulator,
  agents: number,
  t0: number,
  timeoutSeconds: number,
): Promise<number | null> {
  const left = timeoutSeconds * 1000 - (performance.now() - t0);
  return (await sim.waitFor((c) => c.connected >= agents, Math.max(0, left), POLL_MS))
    ? performance.now()
    : null;
}

function tallyDelta(before: SimCounters, after: SimCounters): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [kind, n] of Object.entries(after.dropKinds)) {
    const d = n - (before.dropKinds[kind] ?? 0);
    if (d > 0) delta[kind] = d;
  }
  return delta;
}
