import { encodeWsFrame } from '@opamp-fleet/opamp';
import type { MonotonicClock } from '@opamp-fleet/presence';
import type { Logger } from '@opamp-fleet/telemetry';
import type { PendingState } from './agent-events.js';
import { CLOSE_EVENT_REASONS, CLOSES, type CloseKind, type ConnectionCloseReason } from './close-codes.js';
import type { GatewayMetrics } from './metrics.js';
import type { HeldConnection, Ownership } from './ownership.js';
import type { Outcome, SessionCore } from './session-core.js';
import type { CloseCause, WireSocket } from './uws-server.js';

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

/** One agent WebSocket: session state, the serial reply queue and the reason it was closed. */
class WsConnection implements HeldConnection {
  readonly transport = 'ws' as const;
  agentId: string | null = null;
  lastUid: Uint8Array | undefined;
  syncedSeq: number | null = null;
  capabilities = 0;
  settingsOffered = false;
  malformed = 0;
  epoch: number | null = null;
  pendingState: PendingState | null = null;
  historyId: string;
  opens = 0;
  inFlight = 0;
  queue: Promise<void> = Promise.resolve();
  closeKind: CloseKind | null = null;
  firstMessageTimer: NodeJS.Timeout | null = null;
  /** When the socket opened (the `clock`'s ms). */
  readonly openedAt: number;

  constructor(
    readonly id: string,
    readonly socket: WireSocket,
    public lastSeenAt: number,
  ) {
    this.historyId = id;
    this.openedAt = lastSeenAt;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress;
  }

  get closed(): boolean {
    return this.socket.closed;
  }

  close(kind: CloseKind): void {
    if (this.socket.closed) return;
    this.closeKind ??= kind;
    const { code, reason } = CLOSES[kind];
    this.socket.end(code, reason);
  }
}

/**
 * The WebSocket side of the gateway. Per connection, messages are handled strictly in arrival order
 * and each gets exactly one reply (sent while the socket is open); at most
 * MAX_IN_FLIGHT_PER_CONNECTION may wait for their reply, beyond that the socket is closed (flood).
 * A socket that sends nothing within the first-message timeout is closed.
 */
export class WsTransport {
  constructor(private readonly o: WsTransportOptions) {}

  open(socket: WireSocket): WsConnection {
    const conn = new WsConnection(this.o.nextConnectionId(), socket, (this.o.clock ?? performance).now());
    this.o.ownership.add(conn);
    this.o.metrics.connections.inc({ transport: 'ws' });
    conn.firstMessageTimer = setTimeout(
      () => conn.close('first_message_timeout'),
      this.o.firstMessageTimeoutMs,
    );
    conn.firstMessageTimer.unref();
    return conn;
  }

  message(conn: WsConnection, data: Uint8Array, isBinary: boolean): void {
    if (conn.closed) return;
    if (conn.firstMessageTimer !== null) {
      clearTimeout(conn.firstMessageTimer);
      conn.firstMessageTimer = null;
    }
    if (conn.inFlight >= MAX_IN_FLIGHT_PER_CONNECTION) {
      conn.close('flood');
      return;
    }
    conn.inFlight += 1;
    conn.queue = conn.queue
      .then(() => (isBinary ? this.o.core.handle(conn, data) : this.o.core.notBinary(conn)))
      .then(
        (outcome) => this.deliver(conn, outcome),
        (err: unknown) => {
          this.o.logger.error({ err, connectionId: conn.id }, 'message handling failed');
          conn.close('malformed');
        },
      )
      .finally(() => {
        conn.inFlight -= 1;
      });
  }

  /** The socket closed: its binding ends with the reason (see ConnectionCloseReason). */
  close(conn: WsConnection | undefined, code: number, cause: CloseCause): void {
    if (conn === undefined) return;
    if (conn.firstMessageTimer !== null) clearTimeout(conn.firstMessageTimer);
    const kind = conn.closeKind;
    let reason: ConnectionCloseReason = 'connection_closed';
    if (kind !== null) reason = CLOSE_EVENT_REASONS[kind];
    else if (cause !== 'other') reason = cause;
    if (conn.agentId !== null) {
      const seconds = ((this.o.clock ?? performance).now() - conn.openedAt) / 1000;
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

  private deliver(conn: WsConnection, outcome: Outcome): void {
    if (conn.closed) return;
    const result = conn.socket.send(encodeWsFrame(outcome.reply));
    if (result === 'buffered' || result === 'dropped') this.o.metrics.sendBackpressure.inc({ result });
    if (outcome.follow === 'goodbye') conn.close('goodbye');
    else if (outcome.follow === 'close_malformed') conn.close('malformed');
    else if (outcome.follow === 'close_too_large') conn.close('too_large');
  }
}
