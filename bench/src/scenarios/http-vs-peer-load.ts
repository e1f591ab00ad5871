/**
 * `startHttpLoad`: the http-vs-peer load generator, `agents` closed-loop HTTP agents spread over
 * `processes` child processes (http-vs-peer-agents.ts). Phases: `ready` (every agent's first
 * message answered or failed), `mark()` opens the measured window, `stop()` closes it and returns
 * the merged result. `counters()` feeds progress and the timeline.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mergeTallies } from '../load/dial-errors.js';
import { shardRanges } from '../load/schedule.js';
import type { FleetCounters } from '../load/types.js';
import { CHILD_ARG, type HttpLoadCommand, type HttpLoadEvent } from './http-vs-peer-agents.js';

const ENTRY = fileURLToPath(new URL('./http-vs-peer-agents.js', import.meta.url));
const STOP_TIMEOUT_MS = 30_000;

export interface HttpLoadResult {
  polls: number;
  agentsAnswered: number;
  errors: Record<string, number>;
  latencyMs: Float64Array;
  /** Generator CPU in the window, summed over its processes. */
  cpuSeconds: number;
  processes: number;
}

export interface HttpLoad {
  readonly ready: Promise<void>;
  counters(): FleetCounters;
  mark(): void;
  stop(): Promise<HttpLoadResult>;
  /** Kills the child processes (after a failure); idempotent. */
  kill(): void;
}

type Result = Extract<HttpLoadEvent, { type: 'result' }>;

export function startHttpLoad(url: string, agents: number, processes: number, rampMs: number): HttpLoad {
  const shards = shardRanges(agents, Math.ceil(agents / processes));
  const live = shards.map(() => ({ answered: 0, agentsAnswered: 0, errors: 0 }));
  const children: ChildProcess[] = [];
  const readies: Promise<void>[] = [];
  const results: Promise<Result>[] = [];
  shards.forEach((shard, i) => {
    const child = fork(ENTRY, [CHILD_ARG], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    // 'close', not 'exit': it comes after the IPC channel is drained, so a result sent just before
    // the child exits is never lost to the race
    const exited = new Promise<never>((_, reject) =>
      child.once('close', (code, signal) =>
        reject(new Error(`HTTP load process ${i + 1} exited (${code ?? signal})`)),
      ),
    );
    exited.catch(() => undefined);
    readies.push(
      Promise.race([
        new Promise<void>((resolve) =>
          child.on('message', (e: HttpLoadEvent) => e.type === 'ready' && resolve()),
        ),
        exited,
      ]),
    );
    results.push(
      Promise.race([
        new Promise<Result>((resolve) =>
          child.on('message', (e: HttpLoadEvent) => e.type === 'result' && resolve(e)),
        ),
        exited,
      ]),
    );
    child.on('message', (e: HttpLoadEvent) => {
      if (e.type === 'counters') live[i] = e;
    });
    child.send({ type: 'start', url, start: shard.start, end: shard.end, rampMs } satisfies HttpLoadCommand);
  });
  const broadcast = (command: HttpLoadCommand): void => {
    for (const child of children) if (child.connected) child.send(command);
  };
  const kill = (): void => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return {
    ready: Promise.all(readies).then(() => undefined),
    counters: () => ({
      requested: agents,
      connected: live.reduce((n, c) => n + c.agentsAnswered, 0),
      sent: 0,
      received: live.reduce((n, c) => n + c.answered, 0),
      errors: live.reduce((n, c) => n + c.errors, 0),
    }),
    mark: () => broadcast({ type: 'mark' }),
    async stop() {
      broadcast({ type: 'stop' });
      const timeout = setTimeout(kill, STOP_TIMEOUT_MS);
      try {
        const all = await Promise.all(results);
        const latencyMs = new Float64Array(all.reduce((n, r) => n + r.latencyMs.length, 0));
        let offset = 0;
        for (const r of all) {
          latencyMs.set(r.latencyMs, offset);
          offset += r.latencyMs.length;
        }
        return {
          polls: all.reduce((n, r) => n + r.polls, 0),
          agentsAnswered: all.reduce((n, r) => n + r.agentsAnswered, 0),
          errors: mergeTallies(all.map((r) => r.errors)),
          latencyMs,
          cpuSeconds: all.reduce((n, r) => n + r.cpuSeconds, 0),
          processes: all.length,
        };
      } finally {
        clearTimeout(timeout);
      }
    },
    kill,
  };
}
