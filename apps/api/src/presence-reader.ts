import { type Db, databaseNowMs } from '@opamp-fleet/db';
import {
  type ConnectionRegistry,
  type LastSeenRange,
  type LastSeenWindow,
  lastSeenKey,
  type Owner,
  readLastSeen,
  readLastSeenWindow,
} from '@opamp-fleet/presence';
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
  /** Entries of the last-seen set in a score range, highest first (see `readLastSeenWindow`); null without Redis. */
  expired(range: LastSeenRange): Promise<LastSeenWindow | null>;
}

const CHUNK = 1000;

export function createPresenceReader(options: PresenceReaderOptions): () => PresenceRequest {
  const clock = new RedisClock(options.redis);
  const key = lastSeenKey(options.keyPrefix);
  return () => new RequestReads(options, clock, key);
}

class RequestReads implements PresenceRequest {
  available = true;
  constructor(
    private readonly o: PresenceReaderOptions,
    private readonly clock: RedisClock,
    private readonly lastSeenKey: string,
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

  async expired(range: LastSeenRange): Promise<LastSeenWindow | null> {
    if (!this.available) return null;
    try {
      return await readLastSeenWindow(this.o.redis, this.lastSeenKey, range);
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
