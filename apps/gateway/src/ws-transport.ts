import { encodeWsAckFrame, encodeWsFrame, SERVER_CAPABILITIES } from '@opamp-fleet/opamp';
import type { MonotonicClock } from '@opamp-fleet/presence';
import type { Logger } from '@opamp-fleet/telemetry';
import { CLOSE_EVENT_REASONS, type CloseKind, type ConnectionCloseReason } from './close-codes.js';
import { DeadlineQueue } from './deadline-queue.js';
import type { GatewayMetrics } from './metrics.js';
import type { Ownership } from './ownership.js';
import type { Outcome, SessionCore } from './session-core.js';
import type { CloseCause, WireSocket } from './uws-server.js';
import { WsConnection } from './ws-connection.js';

/** Messages of one connection waiting for their reply; beyond it the agent is flooding. */
export const MAX_IN_FLIGHT_PER_CONNECTION = 64;

export interface WsTransportOptions {
  readonly core: SessionCore;
  readonly ownership: Ownership;
  readonly firstMessageTimeoutMs: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly nextConnectionId: () => string;
  /** The session core's clock (of `lastSeenAt`). Default `performance`. */
  readonly clock?: MonotonicClock;
}

/**
 * The WebSocket side of the gateway. Per connection, messages are handled strictly in arrival order
 * and each gets exactly one reply (sent while the socket is open); at most
 * MAX_IN_FLIGHT_PER_CONNECTION may wait for their reply, beyond that the socket is closed (flood).
 * A socket that sends nothing within the first-message timeout is closed.
 *
 * Per connection it keeps one small object (see WsConnection) and no timer: the first-message
 * timeouts of all sockets share one DeadlineQueue, and a connection's waiting messages are a plain
 * array that exists only while messages wait.
 */
export class WsTransport {
  private readonly clock: MonotonicClock;
  /** Peer closes waiting for the messages the peer sent before them (see close()). */
  private readonly peerClosed = new Map<WsConnection, { code: number; cause: CloseCause }>();
  private readonly firstMessageDeadlines: DeadlineQueue<WsConnection>;

  constructor(private readonly o: WsTransportOptions) {
    this.clock = o.clock ?? performance;
    this.firstMessageDeadlines = new DeadlineQueue(o.firstMessageTimeoutMs, (conn) => {
      if (conn.awaitingFirstMessage) conn.close('first_message_timeout');
    });
  }

  open(socket: WireSocket): WsConnection {
    const conn = new WsConnection(this.o.nextConnectionId(), socket, this.clock.now());
    this.o.ownership.add(conn);
    this.o.metrics.connections.inc({ transport: 'ws' });
    this.firstMessageDeadlines.add(conn);
    return conn;
  }

  message(conn: WsConnection, data: Uint8Array, isBinary: boolean): void {
    if (conn.closed) return;
    conn.awaitingFirstMessage = false;
    if (conn.inFlight >= MAX_IN_FLIGHT_PER_CONNECTION) {
      conn.close('flood');
      return;
    }
    conn.inFlight += 1;
    const frame = isBinary ? data : null;
    if (conn.inFlight === 1) void this.run(conn, frame);
    else if (conn.backlog === null) conn.backlog = [frame];
    else conn.backlog.push(frame);
  }

  /**
   * The socket closed: its binding ends with the reason (see ConnectionCloseReason). When the peer
   * closed while messages it sent before are still being handled (an agent sends agent_disconnect
   * and closes at once, as opamp-go does), the binding ends once they are, so a goodbye among them is
   * recorded as agent_disconnect rather than connection_closed.
   */
  close(conn: WsConnection | undefined, code: number, cause: CloseCause): void {
    if (conn === undefined) return;
    if (conn.inFlight > 0 && conn.closeKind === null) {
      this.peerClosed.set(conn, { code, cause });
      return;
    }
    this.ended(conn, code, cause);
  }

  private ended(conn: WsConnection, code: number, cause: CloseCause): void {
    const kind = conn.closeKind;
    let reason: ConnectionCloseReason = 'connection_closed';
    if (kind !== null) reason = CLOSE_EVENT_REASONS[kind];
    else if (cause !== 'other') reason = cause;
    if (conn.agentId !== null) {
      const seconds = (this.clock.now() - conn.openedAt) / 1000;
      this.o.metrics.connectionSeconds.observe(Math.max(0, seconds));
    }
    this.o.ownership.remove(conn, reason);
    this.o.metrics.connections.dec({ transport: 'ws' });
    const label = kind ?? (cause !== 'other' ? cause : code === 1006 ? 'abnormal' : 'peer');
    this.o.metrics.closes.inc({ reason: label });
  }

  /** Closes up to `limit` open connections with `kind`; returns how many it closed. */
  closeSome(limit: number, kind: CloseKind): number {
    let n = 0;
    for (const conn of this.o.ownership.connections()) {
      if (n >= limit) break;
      if (conn.closed) continue;
      conn.close(kind);
      n += 1;
    }
    return n;
  }

  /**
   * Handles `frame` (null: a text frame) and then every message that queued up behind it, one at a
   * time in arrival order, each answered before the next is handled.
   */
  private async run(conn: WsConnection, frame: Uint8Array | null): Promise<void> {
    let next: Uint8Array | null | undefined = frame;
    while (next !== undefined) {
      try {
        const outcome = next === null ? this.o.core.notBinary(conn) : await this.o.core.handle(conn, next);
        this.deliver(conn, outcome);
      } catch (err) {
        this.o.logger.error({ err, connectionId: conn.id }, 'message handling failed');
        conn.close('malformed');
      }
      conn.inFlight -= 1;
      next = conn.backlog?.shift();
      if (conn.backlog?.length === 0) conn.backlog = null;
    }
    const closed = this.peerClosed.get(conn);
    if (closed !== undefined) {
      this.peerClosed.delete(conn);
      this.ended(conn, closed.code, closed.cause);
    }
  }

  private deliver(conn: WsConnection, outcome: Outcome): void {
    conn.compactUid();
    if (conn.closed) {
      // the peer closed right after its goodbye: the goodbye is why the connection ended
      if (outcome.follow === 'goodbye') conn.closeKind ??= 'goodbye';
      return;
    }
    const frame =
      outcome.ack !== undefined
        ? encodeWsAckFrame(outcome.ack, SERVER_CAPABILITIES)
        : encodeWsFrame(outcome.reply);
    if (outcome.follow === 'none') this.send(conn, frame);
    // the reply and the Close frame in one write: a burst of goodbyes costs one syscall each
    else conn.socket.corked(() => this.sendAndClose(conn, frame, outcome.follow));
  }

  private send(conn: WsConnection, frame: Uint8Array): void {
    const result = conn.socket.send(frame);
    if (result === 'buffered' || result === 'dropped') this.o.metrics.sendBackpressure.inc({ result });
  }

  private sendAndClose(conn: WsConnection, frame: Uint8Array, follow: Outcome['follow']): void {
    this.send(conn, frame);
    if (follow === 'goodbye') conn.close('goodbye');
    else if (follow === 'close_malformed') conn.close('malformed');
    else if (follow === 'close_too_large') conn.close('too_large');
  }
}
