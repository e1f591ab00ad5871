import type { Redis } from 'ioredis';
import { checkInt, PresenceDataError } from './errors.js';
import { type PresenceKeys, presenceKeys } from './keys.js';
import { luaScript } from './lua-script.js';

/** The live connection holding an agent: which gateway, and which of its connections. */
export interface Owner {
  gatewayId: string;
  connectionId: string;
}

/** An agent and the owner a `releaseMany` expects to hold it. */
export interface ReleaseEntry {
  agentId: string;
  owner: Owner;
}

export interface ReannounceEntry extends ReleaseEntry {
  /** The connection has no epoch yet (its claim failed): give it one if it holds the agent. */
  needsEpoch?: boolean;
}

export interface ReannounceConflict {
  agentId: string;
  /** The owner that holds the agent in Redis (not the one re-announced). */
  current: Owner;
}

/** A connection epoch handed out by `reannounce` to an entry that asked for one. */
export interface ReannounceEpoch {
  agentId: string;
  owner: Owner;
  epoch: number;
}

export interface ReannounceResult {
  conflicts: ReannounceConflict[];
  epochs: ReannounceEpoch[];
}

/** What `claim` did: the owner it replaced, and the epoch of the claiming connection. */
export interface Claim {
  previous: Owner | null;
  /** Strictly greater than every epoch handed out before it (see ConnectionRegistry). */
  epoch: number;
}

export interface ConnectionRegistryOptions {
  redis: Redis;
  keyPrefix?: string;
  /** Entries per script call in `reannounce` and `releaseMany`. Default 500. */
  chunkSize?: number;
}

/**
 * Which connection holds each agent, shared by all gateways (one Redis hash).
 *
 * Contract: every operation is one atomic script or command, so concurrent gateways see a single
 * order of claims and releases per agent. `claim` always wins and hands back the owner it replaced
 * (the caller tells that gateway to close its socket). `release` is compare-and-delete: a close that
 * arrives after a newer connection claimed the agent changes nothing. `reannounce` never steals: it
 * fills gaps (after a Redis data loss) and reports agents another owner holds. Chunks of
 * `reannounce` are independent; a failure rejects the call after earlier chunks may have applied,
 * which is safe to retry. Ownership has no expiry: entries of a crashed gateway stay until claimed
 * or released by a cleanup that knows the gateway is gone.
 *
 * Connection epochs: `claim` (and `reannounce`, for entries without one) hands the connection the
 * next value of one shared counter, taken in the same script as the claim, so for one agent a later
 * claim always carries a greater epoch. The counter is shared with the session store's HTTP
 * sessions. A counter lost with Redis data restarts from the Redis clock in microseconds, keeping
 * epochs increasing across the loss (see `lua/claim.lua`). Epochs are safe integers.
 *
 * Last-seen: whenever a call hands out an epoch (`claim`, and `reannounce` for entries that asked
 * for one) it also moves the agent's last-seen to the Redis clock's now (never backwards) in the
 * same script, so a connection's last-seen is in Redis before its opening can be emitted: the
 * sweeper never finds an agent online in Postgres on a new connection with an older last-seen.
 */
export interface ConnectionRegistry {
  claim(agentId: string, owner: Owner): Promise<Claim>;
  release(agentId: string, owner: Owner): Promise<boolean>;
  /**
   * `release` for many entries in one script call per chunk (a burst of closes costs one round
   * trip); returns how many were deleted. Chunks are independent, like `reannounce`'s.
   */
  releaseMany(entries: readonly ReleaseEntry[]): Promise<number>;
  lookup(agentId: string): Promise<Owner | null>;
  reannounce(entries: readonly ReannounceEntry[]): Promise<ReannounceResult>;
  /**
   * Counts takeovers of `agentId` in a fixed window of `windowMs` that starts at the first one
   * counted; returns the count including this one. Many takeovers in a short window mean two live
   * agents share one instance uid.
   */
  noteTakeover(agentId: string, windowMs: number): Promise<number>;
}

/** Encodes an owner as the exact string stored in Redis (compared byte for byte by `release`). */
export function encodeOwner(owner: Owner): string {
  return JSON.stringify([owner.gatewayId, owner.connectionId]);
}

/** Decodes a stored owner; throws {@link PresenceDataError} on anything this package did not write. */
export function decodeOwner(raw: string): Owner {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new PresenceDataError(`owner is not JSON: ${raw.slice(0, 80)}`);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string'
  ) {
    throw new PresenceDataError(`owner is not [gatewayId, connectionId]: ${raw.slice(0, 80)}`);
  }
  return { gatewayId: parsed[0], connectionId: parsed[1] };
}

export function createConnectionRegistry(options: ConnectionRegistryOptions): ConnectionRegistry {
  return new RedisConnectionRegistry(options);
}

class RedisConnectionRegistry implements ConnectionRegistry {
  private readonly redis: Redis;
  private readonly keys: PresenceKeys;
  private readonly chunkSize: number;

  constructor(o: ConnectionRegistryOptions) {
    this.redis = o.redis;
    this.keys = presenceKeys(o.keyPrefix);
    this.chunkSize = checkInt('chunkSize', o.chunkSize ?? 500, 1, 5000);
  }

  async claim(agentId: string, owner: Owner): Promise<Claim> {
    const [prev, epoch] = (await luaScript('claim').run(
      this.redis,
      [this.keys.owners, this.keys.connEpoch, this.keys.lastSeen],
      [agentId, encodeOwner(owner)],
    )) as [string | null, number];
    return { previous: typeof prev === 'string' ? decodeOwner(prev) : null, epoch: toEpoch(epoch) };
  }

  async release(agentId: string, owner: Owner): Promise<boolean> {
    return (await this.releaseMany([{ agentId, owner }])) === 1;
  }

  async releaseMany(entries: readonly ReleaseEntry[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < entries.length; i += this.chunkSize) {
      const args = entries.slice(i, i + this.chunkSize).flatMap((e) => [e.agentId, encodeOwner(e.owner)]);
      n += Number(await luaScript('release').run(this.redis, [this.keys.owners], args));
    }
    return n;
  }

  async lookup(agentId: string): Promise<Owner | null> {
    const raw = await this.redis.hget(this.keys.owners, agentId);
    return raw === null ? null : decodeOwner(raw);
  }

  async reannounce(entries: readonly ReannounceEntry[]): Promise<ReannounceResult> {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < entries.length; i += this.chunkSize) {
      const args: string[] = [];
      for (const e of entries.slice(i, i + this.chunkSize)) {
        args.push(e.agentId, encodeOwner(e.owner), e.needsEpoch === true ? '1' : '0');
      }
      calls.push(
        luaScript('reannounce').run(
          this.redis,
          [this.keys.owners, this.keys.connEpoch, this.keys.lastSeen],
          args,
        ),
      );
    }
    const result: ReannounceResult = { conflicts: [], epochs: [] };
    const replies = await Promise.all(calls);
    for (const [chunk, reply] of replies.entries()) {
      const flat = reply as Array<string | number>;
      for (let j = 0; j < flat.length; j += 3) {
        const entry = entries[chunk * this.chunkSize + Number(flat[j]) - 1];
        if (entry === undefined) throw new PresenceDataError(`reannounce answered for no entry: ${flat[j]}`);
        if (flat[j + 1] === 'conflict') {
          result.conflicts.push({ agentId: entry.agentId, current: decodeOwner(String(flat[j + 2])) });
        } else {
          result.epochs.push({ agentId: entry.agentId, owner: entry.owner, epoch: toEpoch(flat[j + 2]) });
        }
      }
    }
    return result;
  }

  async noteTakeover(agentId: string, windowMs: number): Promise<number> {
    checkInt('windowMs', windowMs, 1);
    return Number(await luaScript('takeover').run(this.redis, [this.keys.takeover(agentId)], [windowMs]));
  }
}

/** A connection epoch as returned by a script; anything but a positive safe integer is foreign data. */
export function toEpoch(raw: unknown): number {
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new PresenceDataError(`invalid connection epoch: ${String(raw)}`);
  return n;
}
