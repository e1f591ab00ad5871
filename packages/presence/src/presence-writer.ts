import type { Redis } from 'ioredis';
import { checkInt } from './errors.js';
import { type PresenceKeys, presenceKeys } from './keys.js';
import { luaScript } from './lua-script.js';
import { PendingBuffer, type PendingEntry } from './pending-buffer.js';

/** A monotonic millisecond clock, e.g. `performance`. Only differences between readings matter. */
export interface MonotonicClock {
  now(): number;
}

/** Where the writer reports what happened; it never emits 'error' and never throws from its loop. */
export interface PresenceWriterObserver {
  /** A flush wrote `agents` entries in `seconds` (measured on the injected clock). */
  onFlush?(agents: number, seconds: number): void;
  /** A chunk failed (Redis down, timeout, script error); its entries stay buffered. */
  onError?(err: unknown): void;
  /** `count` entries were dropped because the buffer went over `maxPending`. */
  onDropped?(count: number): void;
  /** Checked touches whose check failed in a flush (see `PresenceWriter.touch`), once per flush. */
  onSessionChecks?(failed: readonly FailedSessionCheck[]): void;
}

/**
 * A checked touch whose session hash did not hold what the check expected:
 * - `ended`: it held the expected seq but no plain-HTTP session (ended meanwhile, e.g. by the
 *   sweeper); the seq was written;
 * - `stale`: another seq, or no hash at all; nothing was written to the hash.
 */
export interface FailedSessionCheck {
  readonly agentId: string;
  /** The seq of the touch (written for `ended`). */
  readonly sequenceNum: number;
  readonly result: 'ended' | 'stale';
}

export interface PresenceWriterOptions {
  /** A fail-fast client, see `createPresenceRedis`. */
  redis: Redis;
  keyPrefix?: string;
  /** Default `performance`. */
  clock?: MonotonicClock;
  /** Period of the background flush started by `start()`. Default 100. */
  flushIntervalMs?: number;
  /** Agents per script call. Default 500. */
  chunkSize?: number;
  /** Hard cap of buffered agents; over it the least recently touched are dropped. Default 1,000,000. */
  maxPending?: number;
  /**
   * TTL refreshed on a session hash when a touch moves its seq, at most once per eighth of it (the
   * hash field `ttl_at` keeps when); 0 leaves it. Default 7 days.
   */
  sessionTtlMs?: number;
  observer?: PresenceWriterObserver;
}

export interface FlushResult {
  /** Agents written to Redis. */
  written: number;
  /** Agents whose chunk failed; they are buffered again unless a newer touch replaced them. */
  failed: number;
  /** Script calls made. */
  chunks: number;
}

/**
 * Coalescing last-seen writer of one gateway.
 *
 * Contract:
 * - `touch` is synchronous and O(1); it records the injected monotonic clock's reading (or the
 *   reading `at` on that clock the caller gives, for an agent seen earlier), never the wall clock.
 *   Touches of one agent coalesce: the newest time wins, and the newest seq unless it has none.
 *   A seq (the agent's sequence_num, for the shared session) is written only into an existing
 *   session hash and only forwards; a seq that is not a non-negative safe integer is ignored.
 * - A touch may carry, with its seq, the seq the session hash is expected to hold (`expectedSeq`,
 *   the previous message's, for a message whose session was not stored otherwise): the seq is then
 *   written only when the hash holds exactly that seq and a plain-HTTP session (compare-and-set, in
 *   the same script call as the last-seen write), or that seq and no session (reported `ended`:
 *   the session ended meanwhile, the seq is written); anything else is reported `stale` and leaves
 *   the hash alone. Failed checks go to `observer.onSessionChecks`. A run of checked touches of one
 *   agent coalesces into one, checked against the first one's expectation. The last-seen is written
 *   whatever the check finds.
 * - The score written is Redis `TIME` minus the age the gateway measured (now - touch time on its own
 *   clock), with ZADD GT, so a gateway with a skewed wall clock writes correct scores and a late or
 *   retried write never moves an agent's last-seen backwards. A touch at least LATE_TOUCH_AGE_MS old
 *   when written also goes to the late set, for the heartbeat flush.
 * - At most one flush is in flight. `flush()` during a flush waits for it and then runs one more,
 *   shared by every caller that asked meanwhile, so it covers all touches made before the call.
 *   Chunks are sent pipelined, one script call per chunk of up to `chunkSize` agents.
 * - While Redis is unreachable nothing is thrown: failed entries stay buffered (one per agent, so
 *   memory is bounded by the agents held) and are written by the next successful flush; over
 *   `maxPending` the least recently touched entries are dropped and reported.
 * - `stop()` ends the background loop, waits for the flush in flight and runs a final flush; it is
 *   idempotent (later calls return the same promise). `start()` after `stop()` does nothing.
 */
export interface PresenceWriter {
  touch(agentId: string, seq?: number, at?: number, expectedSeq?: number): void;
  flush(): Promise<FlushResult>;
  start(): void;
  stop(): Promise<FlushResult>;
  /** Agents buffered, not yet written. */
  readonly pending: number;
  /** Entries dropped over `maxPending` since creation. */
  readonly dropped: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A touch written this long (ms) or longer after the gateway saw the agent is also listed in the
 * late last-seen set (`PresenceKeys.lateSeen`). Its score lands that far behind Redis' clock, so
 * possibly behind the heartbeat flush's watermark and its re-read window (HEARTBEAT_FLUSH_OVERLAP_MS,
 * keep it at least this long); the flush writes the late set's entries whatever its watermark.
 */
export const LATE_TOUCH_AGE_MS = 500;
const EMPTY: FlushResult = { written: 0, failed: 0, chunks: 0 };

export function createPresenceWriter(options: PresenceWriterOptions): PresenceWriter {
  return new RedisPresenceWriter(options);
}

class RedisPresenceWriter implements PresenceWriter {
  private readonly redis: Redis;
  private readonly keys: PresenceKeys;
  private readonly clock: MonotonicClock;
  private readonly intervalMs: number;
  private readonly chunkSize: number;
  private readonly sessionTtlMs: number;
  private readonly observer: PresenceWriterObserver;
  private readonly buffer: PendingBuffer;
  private readonly script = luaScript('touch');
  private running: Promise<FlushResult> | null = null;
  private queued: Promise<FlushResult> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopping: Promise<FlushResult> | null = null;

  constructor(o: PresenceWriterOptions) {
    this.redis = o.redis;
    this.keys = presenceKeys(o.keyPrefix);
    this.clock = o.clock ?? performance;
    this.intervalMs = checkInt('flushIntervalMs', o.flushIntervalMs ?? 100, 1);
    this.chunkSize = checkInt('chunkSize', o.chunkSize ?? 500, 1, 2000);
    this.sessionTtlMs = checkInt('sessionTtlMs', o.sessionTtlMs ?? 7 * DAY_MS, 0);
    this.buffer = new PendingBuffer(checkInt('maxPending', o.maxPending ?? 1_000_000, 1));
    this.observer = o.observer ?? {};
  }

  get pending(): number {
    return this.buffer.size;
  }

  get dropped(): number {
    return this.buffer.dropped;
  }

  touch(agentId: string, seq?: number, at?: number, expectedSeq?: number): void {
    // a seq that is not a non-negative safe integer is ignored: it would fail its whole chunk forever
    const valid = validSeq(seq);
    const now = this.clock.now();
    // a time in the future of this clock would write a score ahead of Redis's clock
    this.buffer.touch(
      agentId,
      at === undefined || !(at <= now) ? now : at,
      valid,
      valid === undefined ? undefined : validSeq(expectedSeq),
    );
  }

  flush(): Promise<FlushResult> {
    if (this.running === null) return this.runFlush();
    if (this.queued === null) {
      this.queued = this.running.then(() => {
        this.queued = null;
        return this.runFlush();
      });
    }
    return this.queued;
  }

  start(): void {
    if (this.started || this.stopping !== null) return;
    this.started = true;
    this.schedule();
  }

  stop(): Promise<FlushResult> {
    if (this.stopping === null) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.stopping = this.flush();
    }
    return this.stopping;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      const next = (): void => {
        if (this.stopping === null) this.schedule();
      };
      this.flush().then(next, (err: unknown) => {
        this.report(() => this.observer.onError?.(err));
        next();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  private runFlush(): Promise<FlushResult> {
    const run = this.flushOnce().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  private async flushOnce(): Promise<FlushResult> {
    const dropped = this.buffer.takeDropped();
    if (dropped > 0) this.report(() => this.observer.onDropped?.(dropped));
    const entries = this.buffer.drain();
    if (entries.length === 0) return EMPTY;
    const startedAt = this.clock.now();
    const chunks: PendingEntry[][] = [];
    for (let i = 0; i < entries.length; i += this.chunkSize) {
      chunks.push(entries.slice(i, i + this.chunkSize));
    }
    const results = await Promise.allSettled(chunks.map((chunk) => this.writeChunk(chunk)));
    let written = 0;
    const failed: PendingEntry[] = [];
    const checks: FailedSessionCheck[] = [];
    let firstError: unknown;
    results.forEach((result, i) => {
      const chunk = chunks[i]!;
      if (result.status === 'fulfilled') {
        written += chunk.length;
        failedChecks(chunk, result.value, checks);
      } else {
        failed.push(...chunk);
        firstError ??= result.reason;
      }
    });
    if (checks.length > 0) this.report(() => this.observer.onSessionChecks?.(checks));
    if (failed.length > 0) {
      this.buffer.restore(failed); // in one go, keeping the oldest-first order across chunks
      this.report(() => this.observer.onError?.(firstError));
    }
    if (written > 0) {
      const seconds = (this.clock.now() - startedAt) / 1000;
      this.report(() => this.observer.onFlush?.(written, seconds));
    }
    return { written, failed: failed.length, chunks: chunks.length };
  }

  private writeChunk(chunk: readonly PendingEntry[]): Promise<unknown> {
    const now = this.clock.now();
    const keys: string[] = [this.keys.lastSeen, this.keys.lateSeen];
    const args: (string | number)[] = [this.sessionTtlMs, LATE_TOUCH_AGE_MS];
    for (const [agentId, touch] of chunk) {
      keys.push(this.keys.session(agentId));
      args.push(
        agentId,
        Math.max(0, Math.round(now - touch.at)),
        touch.seq === undefined ? '' : touch.seq,
        touch.expectedSeq === undefined ? '' : touch.expectedSeq,
      );
    }
    return this.script.run(this.redis, keys, args);
  }

  /** Observer callbacks must not break the writer. */
  private report(call: () => void): void {
    try {
      call();
    } catch {
      // an observer's own failure is not the writer's to handle
    }
  }
}

function validSeq(seq: number | undefined): number | undefined {
  return seq !== undefined && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
}

/** Adds the failed checks a touch script reply lists (chunk index, 'ended' | 'stale' pairs) to `out`. */
function failedChecks(chunk: readonly PendingEntry[], reply: unknown, out: FailedSessionCheck[]): void {
  if (!Array.isArray(reply)) return;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const entry = chunk[Number(reply[i]) - 1];
    const result = reply[i + 1];
    if (entry === undefined || entry[1].seq === undefined || (result !== 'ended' && result !== 'stale'))
      continue;
    out.push({ agentId: entry[0], sequenceNum: entry[1].seq, result });
  }
}

/**
 * Reads last-seen scores (ms since the Unix epoch, Redis clock) of `agentIds`; `null` for agents
 * without an entry. One ZMSCORE call; meant for tests, the sweeper and the API.
 */
export async function readLastSeen(
  redis: Redis,
  agentIds: readonly string[],
  keyPrefix?: string,
): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  if (agentIds.length === 0) return out;
  const scores = (await redis.zmscore(presenceKeys(keyPrefix).lastSeen, ...agentIds)) as unknown[];
  agentIds.forEach((id, i) => {
    const score = scores[i];
    out.set(id, score === null || score === undefined ? null : Number(score));
  });
  return out;
}
