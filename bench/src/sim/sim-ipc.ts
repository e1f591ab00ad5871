/**
 * Commands a simulator coordinator sends to one simulator process (in-process or forked), and
 * their replies. One command at a time per process; counters arrive unasked every
 * `SIM_COUNTERS_INTERVAL_MS`.
 */
import type { BackoffOptions } from './backoff.js';
import type { SimCounters, SimProcessUsage } from './counters.js';

/** The slice of the fleet one process simulates. */
export interface SimShardSpec {
  /** ws:// URL of the OpAMP endpoint. */
  url: string;
  token: string | null;
  /** Global index of this shard's first agent slot (source addresses are assigned by slot). */
  firstSlot: number;
  count: number;
  /** Share of agents on plain HTTP, 0..1 (0: all WebSocket). */
  httpShare: number;
  heartbeatMs: number;
  jitter: number;
  backoff: BackoffOptions;
  agentsPerAddress: number;
  /** Agents dialing (not yet connected or failed) at once during `start`. */
  dialConcurrency: number;
  echo: boolean;
  /** Most latency / reconnect samples kept per process. */
  sampleCapacity: number;
}

/** An agent that left: its id (as the server knows it), how, and when (epoch ms). */
export interface LeftAgent {
  id: string;
  mode: 'graceful' | 'silent';
  transport: 'ws' | 'http';
  atMs: number;
}

export type SimCommand =
  | { type: 'start' }
  | { type: 'mark' }
  | { type: 'leave'; count: number }
  | { type: 'join'; count: number }
  | { type: 'gap'; count: number }
  | { type: 'ids' }
  | { type: 'samples' }
  | { type: 'stop'; goodbye: boolean };

export type SimResult =
  | { type: 'done' }
  | { type: 'left'; agents: LeftAgent[] }
  | { type: 'count'; count: number }
  | { type: 'ids'; ids: string[] }
  | { type: 'samples'; latencyMs: { ws: Float64Array; http: Float64Array }; reconnectMs: Float64Array };

export interface SimStatus {
  counters: SimCounters;
  usage: SimProcessUsage;
}

/** Child -> coordinator messages. */
export type SimReply =
  | { type: 'result'; result: SimResult }
  | { type: 'failed'; message: string }
  | ({ type: 'status' } & SimStatus);

/** Coordinator -> child messages. */
export type SimRequest = { type: 'init'; spec: SimShardSpec } | { type: 'command'; command: SimCommand };

export const SIM_COUNTERS_INTERVAL_MS = 250;
