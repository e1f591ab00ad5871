import type { Redis } from 'ioredis';
import { checkInt, PresenceDataError } from './errors.js';
import { type PresenceKeys, presenceKeys } from './keys.js';
import { luaScript } from './lua-script.js';

export interface SessionAdvance {
  sequenceNum: number;
  /** AgentCapabilities bit mask. */
  capabilities: number;
  /** Opaque, binary-safe state parts to store (e.g. serialized status messages), by name. */
  fields: Record<string, Uint8Array>;
}

export interface AdvanceResult {
  /** False when no state was stored for the agent (never seen, expired, or lost with Redis). */
  known: boolean;
  prevSequenceNum: number | null;
}

export interface SessionState {
  sequenceNum: number;
  capabilities: number;
  /** Every field ever written by `advance` (later writes of a name replace earlier ones). */
  fields: Record<string, Buffer>;
  /** When the state was last advanced, ms since the Unix epoch on the Redis clock. */
  updatedAt: number;
}

export interface SessionStoreOptions {
  redis: Redis;
  keyPrefix?: string;
  /** Expiry of an agent's state, refreshed by every advance; 0 keeps it forever. Default 7 days. */
  ttlMs?: number;
}

/**
 * Compressed-status state of each agent, shared by all gateways (one Redis hash per agent), so a
 * gateway that receives a reconnected agent knows which sequence number and status parts it has.
 *
 * Contract: `advance` is one atomic script: it returns what was stored before and writes the new seq,
 * capabilities, fields and `updated_at` (Redis clock) together; concurrent advances of one agent are
 * applied in some order and each sees the previous one's seq. `advance` writes seq unconditionally
 * (it is authoritative; an agent that restarted starts again at a low seq), while the presence
 * writer's touch only moves seq forward in an existing hash. `load` is a single HGETALL snapshot.
 */
export interface SessionStore {
  advance(agentId: string, update: SessionAdvance): Promise<AdvanceResult>;
  load(agentId: string): Promise<SessionState | null>;
}

const FIELD_PREFIX = 'f:';
const DAY_MS = 24 * 60 * 60 * 1000;

export function createSessionStore(options: SessionStoreOptions): SessionStore {
  return new RedisSessionStore(options);
}

class RedisSessionStore implements SessionStore {
  private readonly redis: Redis;
  private readonly keys: PresenceKeys;
  private readonly ttlMs: number;

  constructor(o: SessionStoreOptions) {
    this.redis = o.redis;
    this.keys = presenceKeys(o.keyPrefix);
    this.ttlMs = checkInt('ttlMs', o.ttlMs ?? 7 * DAY_MS, 0);
  }

  async advance(agentId: string, update: SessionAdvance): Promise<AdvanceResult> {
    checkInt('sequenceNum', update.sequenceNum, 0);
    checkInt('capabilities', update.capabilities, 0);
    const args: (string | number | Buffer)[] = [update.sequenceNum, update.capabilities, this.ttlMs];
    for (const [name, value] of Object.entries(update.fields)) {
      args.push(FIELD_PREFIX + name, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
    const reply = (await luaScript('advance').run(this.redis, [this.keys.session(agentId)], args)) as [
      number,
      string | null | undefined,
    ];
    const prev = reply[1];
    return {
      known: reply[0] === 1,
      prevSequenceNum: prev === null || prev === undefined ? null : Number(prev),
    };
  }

  async load(agentId: string): Promise<SessionState | null> {
    const hash = await this.redis.hgetallBuffer(this.keys.session(agentId));
    const seq = hash.seq;
    if (seq === undefined) return null;
    const fields: Record<string, Buffer> = {};
    for (const [name, value] of Object.entries(hash)) {
      if (name.startsWith(FIELD_PREFIX)) fields[name.slice(FIELD_PREFIX.length)] = value;
    }
    return {
      sequenceNum: toNumber(agentId, 'seq', seq),
      capabilities: hash.caps === undefined ? 0 : toNumber(agentId, 'caps', hash.caps),
      updatedAt: hash.updated_at === undefined ? 0 : toNumber(agentId, 'updated_at', hash.updated_at),
      fields,
    };
  }
}

function toNumber(agentId: string, field: string, raw: Buffer): number {
  const n = Number(raw.toString('latin1'));
  if (!Number.isFinite(n)) throw new PresenceDataError(`session ${agentId}: ${field} is not a number`);
  return n;
}
