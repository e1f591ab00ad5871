import { performance } from 'node:perf_hooks';
import { createGenerator } from '../load/create-generator.js';
import { sequenceRoundOutcomes } from '../load/merge-outcomes.js';
import { startProgress } from '../load/progress.js';
import type { RoundOutcome } from '../load/types.js';
import { readCpuSeconds, readRssBytes } from '../metrics/proc.js';
import { startTimeline } from '../metrics/timeline.js';
import { buildTargetRun } from '../report/build.js';
import type { TargetRun } from '../report/types.js';
import type { ServerTarget } from '../targets/server-target.js';

/** How long a heartbeat round waits for missing replies after its send window. */
const ROUND_REPLY_TIMEOUT_MS = 10_000;

export interface MeasureOptions {
  agents: number;
  durationSeconds: number;
  rounds: number;
  dialConcurrency: number;
  agentsPerSourceAddress: number;
  agentsPerGenerator: number;
  /** Receives a progress line every second. */
  progress: (line: string) => void;
}

interface ServerReading {
  rssBytes: number;
  cpuSeconds: number;
}

async function readServer(pids: readonly number[]): Promise<ServerReading> {
  const readings = await Promise.all(
    pids.map(async (pid) => ({ rssBytes: await readRssBytes(pid), cpuSeconds: await readCpuSeconds(pid) })),
  );
  return {
    rssBytes: readings.reduce((n, r) => n + r.rssBytes, 0),
    cpuSeconds: readings.reduce((n, r) => n + r.cpuSeconds, 0),
  };
}

/**
 * Connects `agents` to `server`, runs the heartbeat rounds, and reads the server's RSS and CPU
 * before, after connecting and after the rounds. Closes the fleet; leaves the server running.
 */
export async function measureTarget(server: ServerTarget, options: MeasureOptions): Promise<TargetRun> {
  const measured = server.pids.length > 0;
  const before = measured ? await readServer(server.pids) : null;
  const generator = await createGenerator(
    {
      url: server.url,
      token: server.token,
      start: 0,
      end: options.agents,
      dialConcurrency: options.dialConcurrency,
      agentsPerSourceAddress: options.agentsPerSourceAddress,
      replyCheck: server.replyCheck,
    },
    options.agentsPerGenerator,
  );
  const stopProgress = startProgress(server.kind, () => generator.counters(), options.progress);
  const timeline = startTimeline(() => generator.counters());
  try {
    let started = performance.now();
    const connect = await generator.connect();
    const connectWallSeconds = (performance.now() - started) / 1000;
    const afterConnect = measured ? await readServer(server.pids) : null;

    const windowMs = (options.durationSeconds * 1000) / options.rounds;
    const rounds: RoundOutcome[] = [];
    started = performance.now();
    for (let i = 0; i < options.rounds; i++)
      rounds.push(await generator.round(windowMs, ROUND_REPLY_TIMEOUT_MS));
    const heartbeatWallSeconds = (performance.now() - started) / 1000;
    const after = measured ? await readServer(server.pids) : null;
    const samples = timeline.stop();

    return buildTargetRun({
      target: server.kind,
      url: server.url,
      settings: { ...server.settings },
      connect,
      connectWallSeconds,
      heartbeat: sequenceRoundOutcomes(rounds),
      rounds: options.rounds,
      windowSeconds: windowMs / 1000,
      heartbeatWallSeconds,
      timeline: samples,
      server:
        before && afterConnect && after
          ? {
              processes: server.pids.length,
              rssBeforeBytes: before.rssBytes,
              rssAfterConnectBytes: afterConnect.rssBytes,
              rssAfterBytes: after.rssBytes,
              cpuSecondsBefore: before.cpuSeconds,
              cpuSecondsAfterConnect: afterConnect.cpuSeconds,
              cpuSecondsAfter: after.cpuSeconds,
            }
          : null,
    });
  } finally {
    timeline.stop();
    stopProgress();
    await generator.close();
  }
}
