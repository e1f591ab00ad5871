import {
  type AgentMessage,
  AgentToServerFlags,
  ackReply,
  badRequestReply,
  type CodecLimits,
  DecodeError,
  decodeAgentToServer,
  decodeWsFrame,
  extractStateFields,
  hasCapability,
  isFullState,
  needsFullState,
  newInstanceUid,
  SERVER_CAPABILITIES,
  ServerToAgentFlags,
  type ServerToAgentInit,
  uidBytesToId,
  withNewInstanceUid,
  withOpampSettings,
} from '@opamp-fleet/opamp';
import type {
  AdvanceResult,
  FailedSessionCheck,
  HttpSession,
  MonotonicClock,
  PresenceWriter,
  SessionStore,
  SessionVia,
} from '@opamp-fleet/presence';
import type { Logger } from '@opamp-fleet/telemetry';
import { type AgentEvents, mergePending, type PendingState } from './agent-events.js';
import { type CachedHttpSession, HttpSessionCache } from './http-session-cache.js';
import type { GatewayMetrics, Transport } from './metrics.js';
import { reportedState } from './state-json.js';

/**
 * What the session core knows about the connection a message came on. One interface serves both
 * transports: a WebSocket keeps one for its lifetime; a plain HTTP request gets a fresh one.
 */
export interface Connection {
  readonly id: string;
  readonly transport: Transport;
  /** The peer's IP address as text, '' when unknown. May be read only while the message is handled. */
  readonly remoteAddress: string;
  /** Canonical id of the agent this connection speaks for; null before its first message. */
  agentId: string | null;
  /** instance_uid bytes of the last decodable message, echoed in error replies. */
  lastUid: Uint8Array | undefined;
  /**
   * sequence_num of the last message whose state reached the session store over this connection,
   * or null when this connection has no such knowledge (new, rebound, or a store write failed).
   */
  syncedSeq: number | null;
  capabilities: number;
  settingsOffered: boolean;
  malformed: number;
  /**
   * Epoch of the connection in agent events: a WebSocket's current binding (null until its claim
   * succeeded), or the agent's HTTP session for a plain HTTP request (null when unknown).
   */
  epoch: number | null;
  /** State reported over a WebSocket before it had an epoch; emitted once it gets one. */
  pendingState: PendingState | null;
  /**
   * When the agent was last seen on this connection (monotonic ms on the session core's clock): its
   * last decodable message, or the connection's opening before any.
   */
  lastSeenAt: number;
}

/** Binds a WebSocket connection to an agent in the connection registry. */
export interface AgentBinder {
  /** 'duplicate' when another live agent holds the id: the caller must assign a new uid. */
  bind(conn: Connection, agentId: string): Promise<'ok' | 'duplicate'>;
}

/** What the transport does after sending the reply. */
export type Follow = 'none' | 'goodbye' | 'close_malformed' | 'close_too_large';

export interface Outcome {
  readonly reply: ServerToAgentInit;
  readonly follow: Follow;
  /**
   * Set when `reply` is `ackReply(ack, SERVER_CAPABILITIES)` and nothing more (the fast paths): the
   * transports then encode it with `encodeWsAckFrame` / `encodeAckBody`, the same bytes.
   */
  readonly ack?: Uint8Array;
}

export interface SessionCoreOptions {
  readonly limits: CodecLimits;
  readonly heartbeatIntervalSeconds: number;
  readonly malformedBudget: number;
  readonly presence: Pick<PresenceWriter, 'touch'>;
  readonly sessions: Pick<SessionStore, 'advance' | 'reopenHttpSession'>;
  /** What this process last stored per plain-HTTP agent. Default a new cache of the default size. */
  readonly httpSessions?: HttpSessionCache;
  readonly binder: AgentBinder;
  readonly events: AgentEvents;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Clock of `Connection.lastSeenAt`, the presence writer's. Default `performance`. */
  readonly clock?: MonotonicClock;
}

/** Fields a bare message (a heartbeat, or a goodbye that carries nothing else) lacks. */
const BARE_ABSENT = [
  'agentDescription',
  'health',
  'effectiveConfig',
  'remoteConfigStatus',
  'packageStatuses',
  'connectionSettingsRequest',
  'customCapabilities',
  'customMessage',
  'availableComponents',
  'connectionSettingsStatus',
] as const;

type MessageKind = 'heartbeat' | 'status' | 'disconnect';

/** No flags and no state: only the uid, sequence_num, capabilities and maybe agent_disconnect. */
function isBare(msg: AgentMessage): boolean {
  return msg.flags === 0 && BARE_ABSENT.every((f) => msg.raw[f] == null);
}

/**
 * Protocol logic shared by both transports: exactly one reply per message, the instance_uid echoed as
 * received, ReportFullState on a sequence gap, new_instance_uid on request or duplicate, presence
 * touched on every decodable message. Messages of one connection must be handled one at a time.
 *
 * Fast path (WebSocket): a bare heartbeat with sequence_num = last + 1 on a connection whose state is
 * synced updates memory and the coalesced presence buffer only, no Redis round trip. A bare goodbye
 * (agent_disconnect and nothing else) takes the same path: its seq goes with the presence touch, and
 * the connection's closing event comes from the socket's close, as for any goodbye.
 * Fast path (plain HTTP): a bare heartbeat with sequence_num = last + 1 and unchanged capabilities of
 * an agent whose last poll this process stored (see {@link HttpSessionCache}) is answered the same
 * way; its seq goes to the session hash with the presence writer's next flush, written only if the
 * hash still holds the previous seq this process knew. A failed check (see `sessionChecks`) drops the
 * cached entry, so the agent's next poll takes the store's path (ReportFullState if its state was
 * lost); a session that ended meanwhile (the sweeper timed the agent out) is opened again at once.
 * Redis failures never fail a message: the agent is answered; its state did not reach the store, so
 * the next stored message sees a sequence gap and asks for the full state once Redis is back.
 *
 * Events: a message that reports state (description, health, effective config), any status message,
 * and a message whose capabilities differ from the stored ones yield one agent_state event with the
 * connection's epoch and the message's sequence_num; a WebSocket without an epoch yet keeps it
 * pending (see Ownership). Plain HTTP agents get their connection events from their HTTP session:
 * opened by their first stored poll, closed by agent_disconnect (reason agent_disconnect), by a
 * WebSocket of the same agent or by a restart (reason replaced). Events are emitted synchronously
 * before the reply is sent.
 */
export class SessionCore {
  private readonly clock: MonotonicClock;
  private readonly httpSessions: HttpSessionCache;
  private readonly reopening = new Set<Promise<void>>();
  /** The message counter's series by transport and kind, taken once (labels() hashes its argument). */
  private readonly messageCounters = new Map<string, { inc(): void }>();

  constructor(private readonly o: SessionCoreOptions) {
    this.clock = o.clock ?? performance;
    this.httpSessions = o.httpSessions ?? new HttpSessionCache();
  }

  /**
   * Handles one binary message (a WebSocket frame, or an HTTP body after decompression). The fast
   * paths answer synchronously; everything else through the returned promise.
   */
  handle(conn: Connection, data: Uint8Array): Outcome | Promise<Outcome> {
    let msg: AgentMessage;
    try {
      msg =
        conn.transport === 'ws'
          ? decodeWsFrame(data, this.o.limits, conn.agentId ?? undefined)
          : decodeAgentToServer(data, this.o.limits);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return this.malformed(conn, err.code, err.uid ?? conn.lastUid, err.message);
    }
    conn.lastUid = msg.uid.bytes;
    const disconnect = msg.raw.agentDisconnect != null;
    const bare = isBare(msg);
    const heartbeat = bare && !disconnect;
    const kind: MessageKind = disconnect ? 'disconnect' : heartbeat ? 'heartbeat' : 'status';
    this.countMessage(conn.transport, kind);
    if (
      bare &&
      conn.agentId === msg.uid.id &&
      conn.syncedSeq !== null &&
      msg.sequenceNum === conn.syncedSeq + 1 &&
      msg.capabilities === conn.capabilities
    ) {
      conn.syncedSeq = msg.sequenceNum;
      conn.lastSeenAt = this.clock.now();
      this.o.presence.touch(conn.agentId, msg.sequenceNum);
      return {
        reply: ackReply(msg.uid, SERVER_CAPABILITIES),
        follow: disconnect ? 'goodbye' : 'none',
        ack: msg.uid.bytes,
      };
    }
    if (heartbeat && conn.transport === 'http') {
      const cached = this.httpSessions.get(msg.uid.id);
      if (
        cached !== undefined &&
        msg.sequenceNum === cached.seq + 1 &&
        msg.capabilities === cached.capabilities
      ) {
        this.pollFromCache(conn, msg.uid.id, msg.sequenceNum, cached);
        return { reply: ackReply(msg.uid, SERVER_CAPABILITIES), follow: 'none', ack: msg.uid.bytes };
      }
    }
    const follow: Follow = disconnect ? 'goodbye' : 'none';
    return this.process(conn, msg, kind).then((reply) => ({ reply, follow }));
  }

  /**
   * Handles the failed checks of cached plain-HTTP polls (the presence writer's flush reports them):
   * a stale entry is dropped; an agent whose session ended while it kept polling gets a new session
   * (connection_opened), or, when that fails, loses its entry so its next poll opens one.
   */
  async sessionChecks(failed: readonly FailedSessionCheck[]): Promise<void> {
    const reopen: Promise<void>[] = [];
    for (const f of failed) {
      this.o.metrics.httpSessionChecks.inc({ result: f.result });
      const cached = this.httpSessions.get(f.agentId);
      if (cached === undefined) continue;
      if (f.result === 'ended') reopen.push(this.reopen(f.agentId, f.sequenceNum, cached));
      else this.httpSessions.delete(f.agentId);
    }
    if (reopen.length === 0) return;
    const all = Promise.all(reopen).then(() => undefined);
    this.reopening.add(all);
    try {
      await all;
    } finally {
      this.reopening.delete(all);
    }
  }

  /** Resolves once every session reopen started so far has finished (they never reject). */
  async settled(): Promise<void> {
    while (this.reopening.size > 0) await Promise.all([...this.reopening]);
  }

  /** Forgets every cached plain-HTTP agent (Redis lost its data). */
  forgetHttpSessions(): void {
    this.httpSessions.clear();
  }

  private countMessage(transport: Transport, kind: MessageKind): void {
    const key = transport === 'ws' ? kind : `http:${kind}`;
    let counter = this.messageCounters.get(key);
    if (counter === undefined) {
      counter = this.o.metrics.messages.labels({ transport, kind });
      this.messageCounters.set(key, counter);
    }
    counter.inc();
  }

  /** A message that is not an OpAMP message at all (a WebSocket text frame). */
  notBinary(conn: Connection): Outcome {
    return this.malformed(conn, 'text_frame', conn.lastUid, 'text frames are not OpAMP messages');
  }

  private malformed(conn: Connection, code: string, uid: Uint8Array | undefined, message: string): Outcome {
    conn.malformed += 1;
    this.o.metrics.decodeErrors.inc({ transport: conn.transport, code });
    this.o.logger.debug({ connectionId: conn.id, code, message }, 'malformed message');
    const reply = badRequestReply(uid, message);
    if (code === 'too_large') return { reply, follow: 'close_too_large' };
    return { reply, follow: conn.malformed >= this.o.malformedBudget ? 'close_malformed' : 'none' };
  }

  /** The HTTP fast path: see the class comment. */
  private pollFromCache(conn: Connection, agentId: string, seq: number, cached: CachedHttpSession): void {
    const expectedSeq = cached.seq;
    cached.seq = seq; // in place: an entry's age in the cache counts from its last stored poll
    cached.lastRequestId = conn.id;
    conn.agentId = agentId;
    conn.capabilities = cached.capabilities;
    conn.lastSeenAt = this.clock.now();
    this.o.presence.touch(agentId, seq, undefined, expectedSeq);
  }

  /** Opens a new session, named after the agent's last poll here, for an agent still polling. */
  private async reopen(agentId: string, seq: number, cached: CachedHttpSession): Promise<void> {
    let session: HttpSession | null = null;
    try {
      session = await this.o.sessions.reopenHttpSession(agentId, cached.lastRequestId, seq);
    } catch (err) {
      this.o.metrics.redisErrors.inc({ operation: 'session_reopen' });
      this.o.logger.debug({ err, agentId }, 'session store unavailable; the next poll opens the session');
    }
    if (session !== null) this.o.events.opened({ agentId, ...session }, 'http', cached.remoteAddress);
    // Not opened: the agent's next poll takes the store's path, which opens one if none is open.
    else if (this.httpSessions.get(agentId) === cached) this.httpSessions.delete(agentId);
  }

  private async process(conn: Connection, msg: AgentMessage, kind: MessageKind): Promise<ServerToAgentInit> {
    let agentId = msg.uid.id;
    let newUid: Uint8Array | undefined;
    if (hasCapability(msg.flags, AgentToServerFlags.RequestInstanceUid)) {
      newUid = newInstanceUid();
      agentId = uidBytesToId(newUid);
      this.o.metrics.uidsAssigned.inc({ reason: 'requested' });
    }
    if (conn.agentId !== agentId) {
      conn.syncedSeq = null;
      if (conn.transport === 'ws' && (await this.o.binder.bind(conn, agentId)) === 'duplicate') {
        newUid = newInstanceUid();
        agentId = uidBytesToId(newUid);
        this.o.metrics.uidsAssigned.inc({ reason: 'duplicate' });
        await this.o.binder.bind(conn, agentId);
      }
      conn.agentId = agentId;
    }

    let flags = 0;
    let known = conn.syncedSeq !== null;
    let prev = conn.syncedSeq === null ? null : { sequenceNum: conn.syncedSeq };
    const fields = extractStateFields(msg) as Record<string, Uint8Array>;
    let r: AdvanceResult | null = null;
    try {
      r = await this.o.sessions.advance(agentId, {
        sequenceNum: msg.sequenceNum,
        capabilities: msg.capabilities,
        fields,
        via: this.via(conn, kind),
      });
      if (prev === null && r.known && r.prevSequenceNum !== null) prev = { sequenceNum: r.prevSequenceNum };
      known ||= r.known;
    } catch (err) {
      this.o.metrics.redisErrors.inc({ operation: 'session_advance' });
      this.o.logger.debug({ err, agentId }, 'session store unavailable; answered without a state check');
    }
    const stored = r !== null;
    this.report(conn, agentId, msg, kind, fields, r);
    this.remember(conn, agentId, msg, r);
    if (stored && needsFullState(prev, msg)) {
      flags |= ServerToAgentFlags.ReportFullState;
      this.o.metrics.fullStateRequests.inc({ transport: conn.transport });
    }
    conn.syncedSeq = stored && conn.transport === 'ws' ? msg.sequenceNum : null;
    conn.lastSeenAt = this.clock.now();
    this.o.presence.touch(agentId, stored ? msg.sequenceNum : undefined);

    let reply = ackReply(msg.uid, SERVER_CAPABILITIES, flags);
    if (newUid) reply = withNewInstanceUid(reply, newUid, { legacy: msg.uid.legacy });
    if (this.shouldOfferSettings(conn, msg, known)) {
      reply = withOpampSettings(reply, msg.capabilities, {
        heartbeatIntervalSeconds: this.o.heartbeatIntervalSeconds,
      });
      conn.settingsOffered = reply.connectionSettings != null;
    }
    conn.capabilities = msg.capabilities;
    return reply;
  }

  /** Caches what a plain-HTTP poll stored (its session open); forgets the agent otherwise. */
  private remember(conn: Connection, agentId: string, msg: AgentMessage, r: AdvanceResult | null): void {
    if (agentId !== msg.uid.id) this.httpSessions.delete(msg.uid.id);
    const session = r?.httpSession ?? null;
    if (conn.transport !== 'http' || session === null) {
      this.httpSessions.delete(agentId);
      return;
    }
    this.httpSessions.set(agentId, {
      seq: msg.sequenceNum,
      capabilities: msg.capabilities,
      remoteAddress: conn.remoteAddress,
      lastRequestId: conn.id,
    });
  }

  private via(conn: Connection, kind: MessageKind): SessionVia {
    if (conn.transport === 'ws') return { transport: 'ws' };
    return { transport: 'http', connectionId: conn.id, disconnect: kind === 'disconnect' };
  }

  /** Emits the events of one stored (or attempted) message; see the class comment. */
  private report(
    conn: Connection,
    agentId: string,
    msg: AgentMessage,
    kind: MessageKind,
    fields: Record<string, Uint8Array>,
    r: AdvanceResult | null,
  ): void {
    const events = this.o.events;
    const reported = reportedState(msg.raw, fields.effectiveConfig);
    // Capabilities last stored; without the store, a WebSocket's last message knows them (0: none yet).
    const knownCaps = r !== null ? r.prevCapabilities : conn.capabilities !== 0 ? conn.capabilities : null;
    const capsChanged = knownCaps !== msg.capabilities;
    const state: PendingState | null =
      reported !== null || kind === 'status' || capsChanged
        ? { sequenceNum: msg.sequenceNum, part: { ...(reported ?? {}), capabilities: msg.capabilities } }
        : null;
    const ended = r?.httpEnded ?? null;
    if (conn.transport === 'ws') {
      if (ended !== null) events.closed({ agentId, ...ended }, 'replaced');
      if (state === null) return;
      if (conn.epoch !== null) events.state(agentId, conn.epoch, state);
      else conn.pendingState = mergePending(conn.pendingState, state);
      return;
    }
    const disconnect = kind === 'disconnect';
    if (ended !== null && !disconnect) events.closed({ agentId, ...ended }, 'replaced');
    const session = r?.httpSession ?? null;
    if (r?.httpOpened && session !== null) events.opened({ agentId, ...session }, 'http', conn.remoteAddress);
    conn.epoch = session?.epoch ?? ended?.epoch ?? null;
    if (state !== null && conn.epoch !== null) events.state(agentId, conn.epoch, state);
    if (ended !== null && disconnect) events.closed({ agentId, ...ended }, 'agent_disconnect');
  }

  /**
   * WebSocket: offered once per connection (and again if the agent gains the capability).
   * HTTP: offered on first contact and on full-state reports, not on every poll.
   */
  private shouldOfferSettings(conn: Connection, msg: AgentMessage, known: boolean): boolean {
    if (conn.transport === 'http') return !known || isFullState(msg);
    return !conn.settingsOffered;
  }
}
