import type { Redis } from 'ioredis';
import { checkInt, PresenceDataError } from './errors.js';
import { type PresenceKeys, presenceKeys } from './keys.js';
import { luaScript } from './lua-script.js';

/** The live connection holding an agent: which gateway, and which of its connections. */
export interface Owner {
  gatewayId: string;
  connectionId: string;
}

export interface ReannounceEntry {
  agentId: string;
  owner: Owner;
}

export interface ReannounceConflict {
  agentId: string;
  /** The owner that holds the agent in Redis (not the one re-announced). */
  current: Owner;
}

export interface ConnectionRegistryOptions {
  redis: Redis;
  keyPrefix?: string;
  /** Entries per script call in `reannounce`. Default 500. */
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
 */
export interface ConnectionRegistry {
  claim(agentId: string, owner: Owner): Promise<Owner | null>;
  release(agentId: string, owner: Owner): Promise<boolean>;
  lookup(agentId: string): Promise<Owner | null>;
  reannounce(entries: readonly ReannounceEntry[]): Promise<ReannounceConflict[]>;
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

  async claim(agentId: string, owner: Owner): Promise<Owner | null> {
    const prev = await luaScript('claim').run(this.redis, [this.keys.owners], [agentId, encodeOwner(owner)]);
    return typeof prev === 'string' ? decodeOwner(prev) : null;
  }

  async release(agentId: string, owner: Owner): Promise<boolean> {
    const n = await luaScript('release').run(this.redis, [this.keys.owners], [agentId, encodeOwner(owner)]);
    return n === 1;
  }

  async lookup(agentId: string): Promise<Owner | null> {
    const raw = await this.redis.hget(this.keys.owners, agentId);
    return raw === null ? null : decodeOwner(raw);
  }

  async reannounce(entries: readonly ReannounceEntry[]): Promise<ReannounceConflict[]> {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < entries.length; i += this.chunkSize) {
      const args: string[] = [];
      for (const e of entries.slice(i, i + this.chunkSize)) args.push(e.agentId, encodeOwner(e.owner));
      calls.push(luaScript('reannounce').run(this.redis, [this.keys.owners], args));
    }
    const conflicts: ReannounceConflict[] = [];
    for (const reply of await Promise.all(calls)) {
      const flat = reply as string[];
      for (let j = 0; j < flat.length; j += 2) {
        conflicts.push({ agentId: flat[j]!, current: decodeOwner(flat[j + 1]!) });
      }
    }
    return conflicts;
  }

  async noteTakeover(agentId: string, windowMs: number): Promise<number> {
    checkInt('windowMs', windowMs, 1);
    return Number(await luaScript('takeover').run(this.redis, [this.keys.takeover(agentId)], [windowMs]));
  }
}
