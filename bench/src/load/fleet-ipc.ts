import type { ConnectOutcome, FleetCounters, FleetSpec, RoundOutcome, StreamOutcome } from './types.js';

/** Coordinator -> generator process. One command at a time; each gets exactly one reply. */
export type FleetCommand =
  | { type: 'init'; spec: FleetSpec }
  | { type: 'connect' }
  | { type: 'round'; windowMs: number; timeoutMs: number }
  | { type: 'stream-start'; intervalMs: number; jitter: number }
  | { type: 'stream-mark' }
  | { type: 'stream-stop'; timeoutMs: number }
  | { type: 'close' };

/** Generator process -> coordinator: a reply to the current command, or a counters snapshot (any time). */
export type FleetReply =
  | { type: 'initialized' }
  | { type: 'connected'; outcome: ConnectOutcome }
  | { type: 'rounded'; outcome: RoundOutcome }
  | { type: 'stream-started' }
  | { type: 'stream-marked' }
  | { type: 'stream-stopped'; outcome: StreamOutcome }
  | { type: 'closed' }
  | { type: 'failed'; message: string }
  | { type: 'counters'; counters: FleetCounters };

/** How often a generator process reports its counters. */
export const COUNTERS_INTERVAL_MS = 500;
