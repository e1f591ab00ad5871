/**
 * WsConnection: the state the gateway keeps for one agent WebSocket, kept small because a gateway
 * holds tens of thousands of them: fields of fixed shape holding small integers where it can, the
 * peer address read from the socket when needed, and the last instance_uid kept as a reference to
 * the agent id string (not a byte copy) when it is that id.
 */
import { uidIdToBytes, uidMatchesId } from '@opamp-fleet/opamp';
import type { PendingState } from './agent-events.js';
import { CLOSES, type CloseKind } from './close-codes.js';
import type { HeldConnection } from './ownership.js';
import type { WireSocket } from './uws-server.js';

/** One agent WebSocket: session state, the messages waiting for their turn, how it was closed. */
export class WsConnection implements HeldConnection {
  agentId: string | null = null;
  syncedSeq: number | null = null;
  capabilities = 0;
  settingsOffered = false;
  malformed = 0;
  epoch: number | null = null;
  pendingState: PendingState | null = null;
  historyId: string;
  opens = 0;
  /** Messages received and not yet answered (the one being handled included). */
  inFlight = 0;
  /** Messages waiting behind the one being handled: the frame, or null for a text frame. */
  backlog: Array<Uint8Array | null> | null = null;
  closeKind: CloseKind | null = null;
  /** No message has arrived yet (the first-message timeout applies). */
  awaitingFirstMessage = true;
  /** When the socket opened, in whole ms of the transport's clock. */
  readonly openedAt: number;
  private seenAt: number;
  /** The last instance_uid: its bytes, or the agent id string it is the canonical form of. */
  private uid: Uint8Array | string | undefined = undefined;

  constructor(
    readonly id: string,
    readonly socket: WireSocket,
    openedAt: number,
  ) {
    this.historyId = id;
    this.openedAt = Math.floor(openedAt);
    this.seenAt = this.openedAt;
  }

  get transport(): 'ws' {
    return 'ws';
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress;
  }

  get closed(): boolean {
    return this.socket.closed;
  }

  /** Stored in whole ms (a small integer, not a boxed double): a reading is never moved later. */
  get lastSeenAt(): number {
    return this.seenAt;
  }

  set lastSeenAt(ms: number) {
    this.seenAt = Math.floor(ms);
  }

  get lastUid(): Uint8Array | undefined {
    return typeof this.uid === 'string' ? uidIdToBytes(this.uid) : this.uid;
  }

  set lastUid(bytes: Uint8Array | undefined) {
    this.uid = bytes;
  }

  /** Drops the byte copy of the last instance_uid when it is the bound agent's id (the usual case). */
  compactUid(): void {
    const { uid, agentId } = this;
    if (typeof uid === 'object' && agentId !== null && uidMatchesId(uid, agentId)) this.uid = agentId;
  }

  close(kind: CloseKind): void {
    if (this.socket.closed) return;
    this.closeKind ??= kind;
    const { code, reason } = CLOSES[kind];
    this.socket.end(code, reason);
  }
}
