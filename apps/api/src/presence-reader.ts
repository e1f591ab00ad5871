import { type Db, databaseNowMs } from '@opamp-fleet/db';
import { type ConnectionRegistry, type Owner, presenceKeys, readLastSeen } from '@opamp-fleet/presence';
import type { Redis } from 'ioredis';
import { RedisClock } from './redis-clock.js';

export interface PresenceReaderOptions {
  redis: Redis;
  registry: ConnectionRegistry;
  db: Db;
  keyPrefix: string;
  /** Called once per failed Redis read (the read then falls back to Postgres alone). */
  onFailure(err: unknown): void;
}

/**
 * The reads of one request against Redis: the clock, last-seen scores and registry owners.
 *
 * Contract: no method throws because of Redis. When a Redis read fails, `available` turns false
 * for the rest of the request and later reads answer without Redis: `now()` from Postgres'
 * `now()`, `lastSeen()` an empty map, `owner()` undefined (unknown). Methods may run concurrently.
 */
export interface PresenceRequest {
  readonly available: boolean;
  /** Redis TIME in ms (a reading of at most a second ago, advanced by the local monotonic clock). */
  now(): Promise<number>;
  /** Last-seen scores (ms) of `ids`, ZMSCORE in chunks of 1000 sent together. */
  lastSeen(ids: readonly string[]): Promise<Map<string, number | null>>;
  /** The registry owner of `agentId`: null when none, undefined when Redis could not say. */
  owner(agentId: string): Promise<Owner | null | undefined>;
  /** Entries of the last-seen set in a score range, highest first (see {@link ExpiredQuery}); null without Redis. */
  expired(query: ExpiredQuery): Promise<ExpiredWindow | null>;
}

/** A range of the last-seen set: scores below `belowMs`, at most `atMostMs`, at least `atLeastMs`. */
export interface ExpiredQuery {
  belowMs: number;
  atMostMs?: number;
  atLeastMs?: number;
  /** Entries to read, at least 1; more when the lowest score read is shared (every tie is read). */
  limit: number;
}

/** Entries of the last-seen set, highest score first. */
export interface ExpiredWindow {
  ids: string[];
  seenMs: number[];
  /**
   * The lowest score read when the range holds more entries below it, else null (the window is
   * the whole range). Every entry scored at the floor is in the window.
   */
  floorMs: number | null;
}

const CHUNK = 1000;

export function createPresenceReader(options: PresenceReaderOptions): () => PresenceRequest {
  const clock = new RedisClock(options.redis);
  return () => new RequestReads(options, clock);
}

class RequestReads implements PresenceRequest {
  available = true;
  constructor(
    private readonly o: PresenceReaderOptions,
    private readonly clock: RedisClock,
  ) {}

  async now(): Promise<number> {
    if (this.available) {
      try {
        return await this.clock.now();
      } catch (err) {
        this.fail(err);
      }
    }
    return databaseNowMs(this.o.db);
  }

  async lastSeen(ids: readonly string[]): Promise<Map<string, number | null>> {
    if (!this.available || ids.length === 0) return new Map();
    try {
      const chunks: string[][] = [];
      for (let i = 0; i < ids.length; i += CHUNK) chunks.push(ids.slice(i, i + CHUNK));
      const maps = await Promise.all(chunks.map((c) => readLastSeen(this.o.redis, c, this.o.keyPrefix)));
      return new Map(maps.flatMap((m) => [...m]));
    } catch (err) {
      this.fail(err);
      return new Map();
    }
  }

  async owner(agentId: string): Promise<Owner | null | undefined> {
    if (!this.available) return undefined;
    try {
      return await this.o.registry.lookup(agentId);
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  async expired(q: ExpiredQuery): Promise<ExpiredWindow | null> {
    if (!this.available) return null;
    try {
      return await readExpired(this.o.redis, presenceKeys(this.o.keyPrefix).lastSeen, q);
    } catch (err) {
      this.fail(err);
      return null;
    }
  }

  private fail(err: unknown): void {
    if (this.available) this.o.onFailure(err);
    this.available = false;
  }
}

function pairs(flat: string[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}

/**
 * Reads `q.limit` entries of the range from the top (ZRANGE BYSCORE REV); when that fills the
 * limit, also every entry sharing the lowest score read (ties are ordered by member in Redis, by
 * id in the listing), so that the window ends between two scores.
 */
export async function readExpired(redis: Redis, key: string, q: ExpiredQuery): Promise<ExpiredWindow> {
  const max = q.atMostMs !== undefined && q.atMostMs < q.belowMs ? String(q.atMostMs) : `(${q.belowMs}`;
  const min = q.atLeastMs === undefined ? '-inf' : String(q.atLeastMs);
  const limit = Math.max(1, Math.floor(q.limit));
  let top = pairs(await redis.zrange(key, max, min, 'BYSCORE', 'REV', 'LIMIT', 0, limit, 'WITHSCORES'));
  let floorMs: number | null = null;
  if (top.length === limit) {
    floorMs = top.at(-1)![1];
    const ties = pairs(await redis.zrange(key, String(floorMs), String(floorMs), 'BYSCORE', 'WITHSCORES'));
    top = top.filter(([, score]) => score !== floorMs).concat(ties);
  }
  return { ids: top.map(([id]) => id), seenMs: top.map(([, ms]) => ms), floorMs };
}
