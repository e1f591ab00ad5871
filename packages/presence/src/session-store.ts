import type { Redis } from 'ioredis';
import { toEpoch } from './connection-registry.js';
import { checkInt, PresenceDataError, PresenceOptionError } from './errors.js';
import { type PresenceKeys, presenceKeys } from './keys.js';
import { luaScript } from './lua-script.js';

/**
 * How the message arrived, which decides what happens to the agent's plain-HTTP session:
 * - `ws`: over a WebSocket; an open HTTP session ends (the WebSocket replaced it);
 * - `http`: over plain HTTP; the session is kept, or opened under `connectionId` when there is none.
 *   A sequence number below the stored one means the agent restarted: its session ends and a new
 *   one opens;
 * - `http` with `disconnect`: agent_disconnect over plain HTTP; the session ends, none is opened.
 */
export type SessionVia =
  | { readonly transport: 'ws' }
  | { readonly transport: 'http'; readonly connectionId: string; readonly disconnect?: boolean };

export interface SessionAdvance {
  sequenceNum: number;
  /** AgentCapabilities bit mask. */
  capabilities: number;
  /** Opaque, binary-safe state parts to store (e.g. serialized status messages), by name. */
  fields: Record<string, Uint8Array>;
  /** Absent: the agent's HTTP session is left as it is. */
  via?: SessionVia;
}

/**
 * The plain-HTTP "connection" of an agent: plain-HTTP agents hold no socket, so the span from their
 * first poll to their agent_disconnect (or to a timeout decided elsewhere) is one session, with an
 * epoch from the same counter as WebSocket connections.
 */
export interface HttpSession {
  connectionId: string;
  epoch: number;
}

export interface AdvanceResult {
  /** False when no state was stored for the agent (never seen, expired, or lost with Redis). */
  known: boolean;
  prevSequenceNum: number | null;
  /** Capabilities stored before this advance, null when none were. */
  prevCapabilities: number | null;
  /** The agent's HTTP session after this advance (null when it has none). */
  httpSession: HttpSession | null;
  /** True when this advance opened `httpSession`. */
  httpOpened: boolean;
  /** The session this advance ended, if any (replaced by a WebSocket or a restart, or disconnected). */
  httpEnded: HttpSession | null;
}

export interface SessionState {
  sequenceNum: number;
  capabilities: number;
  /** Every field ever written by `advance` (later writes of a name replace earlier ones). */
  fields: Record<string, Buffer>;
  /** When the state was last advanced, ms since the Unix epoch on the Redis clock. */
  updatedAt: number;
  /** The agent's open plain-HTTP session, if any. */
  httpSession: HttpSession | null;
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
 *
 * HTTP sessions live in the same hash and change only inside `advance` (see {@link SessionVia}),
 * `reopenHttpSession` and `closeHttpSession`, so at most one is open per agent and every session is
 * reported opened once and ended at most once. An advance that opens a session also moves the agent's last-seen to the
 * Redis clock's now (never backwards) in the same script, so it is in Redis before the session's
 * opening can be emitted. A session's hash expiring with the state ends it silently: whoever times
 * out HTTP agents must do so well before the state TTL.
 */
export interface SessionStore {
  advance(agentId: string, update: SessionAdvance): Promise<AdvanceResult>;
  load(agentId: string): Promise<SessionState | null>;
  /**
   * Ends the agent's HTTP session if it is still `connectionId` (compare-and-delete: a newer session
   * is left alone). The hook for timing out plain-HTTP agents: the caller that decides the timeout
   * reports the returned session as closed. Resolves to the ended session, or null.
   */
  closeHttpSession(agentId: string, connectionId: string): Promise<HttpSession | null>;
  /**
   * Opens an HTTP session `connectionId` for an agent whose session ended while it kept polling,
   * if the stored seq is still `sequenceNum` (its last poll) and no session is open
   * (compare-and-set); like an opening `advance`, it moves the agent's last-seen to now. The caller
   * reports the returned session as opened. Resolves to the opened session, or null.
   */
  reopenHttpSession(agentId: string, connectionId: string, sequenceNum: number): Promise<HttpSession | null>;
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
    const via = update.via;
    let mode = '';
    let connectionId = '';
    if (via?.transport === 'ws') mode = 'ws';
    else if (via?.transport === 'http') {
      if (typeof via.connectionId !== 'string' || via.connectionId.length === 0) {
        throw new PresenceOptionError('via.connectionId must be a non-empty string');
      }
      mode = via.disconnect === true ? 'http_end' : 'http';
      connectionId = mode === 'http' ? via.connectionId : '';
    }
    const args: (string | number | Buffer)[] = [
      update.sequenceNum,
      update.capabilities,
      this.ttlMs,
      mode,
      connectionId,
      agentId,
    ];
    for (const [name, value] of Object.entries(update.fields)) {
      args.push(FIELD_PREFIX + name, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
    const reply = (await luaScript('advance').run(
      this.redis,
      [this.keys.session(agentId), this.keys.connEpoch, this.keys.lastSeen],
      args,
    )) as Array<string | number | null | undefined>;
    return {
      known: reply[0] === 1,
      prevSequenceNum: optionalNumber(reply[1]),
      prevCapabilities: optionalNumber(reply[2]),
      httpSession: session(reply[3], reply[4]),
      httpOpened: reply[5] === 1,
      httpEnded: session(reply[6], reply[7]),
    };
  }

  async closeHttpSession(agentId: string, connectionId: string): Promise<HttpSession | null> {
    const epoch = await luaScript('close-http').run(this.redis, [this.keys.session(agentId)], [connectionId]);
    return epoch === null || epoch === undefined ? null : { connectionId, epoch: toEpoch(epoch) };
  }

  async reopenHttpSession(
    agentId: string,
    connectionId: string,
    sequenceNum: number,
  ): Promise<HttpSession | null> {
    checkInt('sequenceNum', sequenceNum, 0);
    if (typeof connectionId !== 'string' || connectionId.length === 0) {
      throw new PresenceOptionError('connectionId must be a non-empty string');
    }
    const epoch = await luaScript('open-http').run(
      this.redis,
      [this.keys.session(agentId), this.keys.connEpoch, this.keys.lastSeen],
      [connectionId, sequenceNum, agentId],
    );
    return epoch === null || epoch === undefined ? null : { connectionId, epoch: toEpoch(epoch) };
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
      httpSession: session(hash.http_conn?.toString('utf8'), hash.http_epoch?.toString('latin1')),
    };
  }
}

function optionalNumber(raw: string | number | null | undefined): number | null {
  return raw === null || raw === undefined ? null : Number(raw);
}

function session(connectionId: unknown, epoch: unknown): HttpSession | null {
  if (typeof connectionId !== 'string' || epoch === null || epoch === undefined) return null;
  return { connectionId, epoch: toEpoch(epoch) };
}

function toNumber(agentId: string, field: string, raw: Buffer): number {
  const n = Number(raw.toString('latin1'));
  if (!Number.isFinite(n)) throw new PresenceDataError(`session ${agentId}: ${field} is not a number`);
  return n;
}
