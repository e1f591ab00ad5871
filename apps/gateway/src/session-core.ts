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
  MonotonicClock,
  PresenceWriter,
  SessionStore,
  SessionVia,
} from '@opamp-fleet/presence';
import type { Logger } from '@opamp-fleet/telemetry';
import { type AgentEvents, mergePending, type PendingState } from './agent-events.js';
import type { GatewayMetrics, Transport } from './metrics.js';
import { reportedState } from './state-json.js';

/**
 * What the session core knows about the connection a message came on. One interface serves both
 * transports: a WebSocket keeps one for its lifetime; a plain HTTP request gets a fresh one.
 */
export interface Connection {
  readonly id: string;
  readonly transport: Transport;
  /** The peer's IP address as text, '' when unknown. */
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
}

export interface SessionCoreOptions {
  readonly limits: CodecLimits;
  readonly heartbeatIntervalSeconds: number;
  readonly malformedBudget: number;
  readonly presence: Pick<PresenceWriter, 'touch'>;
  readonly sessions: Pick<SessionStore, 'advance'>;
  readonly binder: AgentBinder;
  readonly events: AgentEvents;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Clock of `Connection.lastSeenAt`, the presence writer's. Default `performance`. */
  readonly clock?: MonotonicClock;
}

const HEARTBEAT_ONLY_ABSENT = [
  'agentDescription',
  'health',
  'effectiveConfig',
  'remoteConfigStatus',
  'packageStatuses',
  'agentDisconnect',
  'connectionSettingsRequest',
  'customCapabilities',
  'customMessage',
  'availableComponents',
  'connectionSettingsStatus',
] as const;

type MessageKind = 'heartbeat' | 'status' | 'disconnect';

function isHeartbeatOnly(msg: AgentMessage): boolean {
  return msg.flags === 0 && HEARTBEAT_ONLY_ABSENT.every((f) => msg.raw[f] == null);
}

/**
 * Protocol logic shared by both transports: exactly one reply per message, the instance_uid echoed as
 * received, ReportFullState on a sequence gap, new_instance_uid on request or duplicate, presence
 * touched on every decodable message. Messages of one connection must be handled one at a time.
 *
 * Fast path (WebSocket): a bare heartbeat with sequence_num = last + 1 on a connection whose state is
 * synced updates memory and the coalesced presence buffer only, no Redis round trip.
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

  constructor(private readonly o: SessionCoreOptions) {
    this.clock = o.clock ?? performance;
  }

  /** Handles one binary message (a WebSocket frame, or an HTTP body after decompression). */
  async handle(conn: Connection, data: Uint8Array): Promise<Outcome> {
    let msg: AgentMessage;
    try {
      msg =
        conn.transport === 'ws'
          ? decodeWsFrame(data, this.o.limits)
          : decodeAgentToServer(data, this.o.limits);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return this.malformed(conn, err.code, err.uid ?? conn.lastUid, err.message);
    }
    conn.lastUid = msg.uid.bytes;
    const disconnect = msg.raw.agentDisconnect != null;
    const heartbeat = isHeartbeatOnly(msg);
    const kind: MessageKind = disconnect ? 'disconnect' : heartbeat ? 'heartbeat' : 'status';
    this.o.metrics.messages.inc({ transport: conn.transport, kind });
    if (
      heartbeat &&
      conn.agentId === msg.uid.id &&
      conn.syncedSeq !== null &&
      msg.sequenceNum === conn.syncedSeq + 1 &&
      msg.capabilities === conn.capabilities
    ) {
      conn.syncedSeq = msg.sequenceNum;
      conn.lastSeenAt = this.clock.now();
      this.o.presence.touch(conn.agentId, msg.sequenceNum);
      return { reply: ackReply(msg.uid, SERVER_CAPABILITIES), follow: 'none' };
    }
    const reply = await this.process(conn, msg, kind);
    return { reply, follow: disconnect ? 'goodbye' : 'none' };
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
