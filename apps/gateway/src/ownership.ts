import { AgentCapabilities, decideDuplicate, hasCapability } from '@opamp-fleet/opamp';
import {
  bindingConnectionId,
  type Claim,
  type CommandBus,
  type ConnectionRegistry,
  type GatewayCommand,
  type Owner,
  type PresenceWriter,
  type ReannounceEntry,
  type ReleaseEntry,
} from '@opamp-fleet/presence';
import type { Logger } from '@opamp-fleet/telemetry';
import type { AgentEvents } from './agent-events.js';
import type { CloseKind, ConnectionCloseReason } from './close-codes.js';
import type { GatewayMetrics } from './metrics.js';
import type { AgentBinder, Connection } from './session-core.js';

/** A WebSocket connection as ownership sees it: bound to an agent, closable with a reason. */
export interface HeldConnection extends Connection {
  readonly closed: boolean;
  /** Id of the current binding in connection events: the connection id, suffixed after a rebind. */
  historyId: string;
  /** Bindings that got an epoch so far. */
  opens: number;
  close(kind: CloseKind): void;
}

export interface OwnershipOptions {
  readonly gatewayId: string;
  readonly registry: ConnectionRegistry;
  readonly bus: Pick<CommandBus, 'send'>;
  readonly presence: Pick<PresenceWriter, 'touch'>;
  readonly takeoverWindowMs: number;
  readonly events: AgentEvents;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

/**
 * The WebSocket connections this gateway holds and their entries in the shared connection registry.
 *
 * Ordering contract: `bind` claims the agent (the newest connection always wins the entry); a live
 * previous owner is told to close (`replaced`) through its gateway's command channel, or directly when
 * it is on this gateway. If the agent was taken over within the takeover window already, two live
 * agents share the uid: the newcomer's claim is withdrawn and `bind` answers 'duplicate'.
 * `remove` releases with compare-and-delete, so a late close never removes a newer connection's entry.
 * Redis failures are counted and logged, never thrown: a missed claim is healed by `reannounce`.
 *
 * Events: a binding is opened (connection_opened, then any state it reported while waiting) when
 * it gets its epoch: from its claim, or, when the claim failed, from the next `reannounce`, never
 * from anywhere else. Only an opened binding is closed (connection_closed, once, with the reason):
 * on `remove`, or when the socket goes on under another instance_uid. A connection that closed
 * before its claim answered is neither opened nor closed.
 */
export class Ownership implements AgentBinder {
  private readonly held = new Map<string, HeldConnection>();
  private readonly releases = new Set<Promise<unknown>>();
  private queuedReleases: ReleaseEntry[] = [];
  /** Connections whose claim is in flight: re-announce leaves them to it. */
  private readonly claiming = new Set<string>();

  constructor(private readonly o: OwnershipOptions) {}

  get size(): number {
    return this.held.size;
  }

  connections(): IterableIterator<HeldConnection> {
    return this.held.values();
  }

  add(conn: HeldConnection): void {
    this.held.set(conn.id, conn);
  }

  /** Forgets a closed connection, ends its binding with `reason` and releases its registry entry. */
  remove(conn: HeldConnection, reason: ConnectionCloseReason): void {
    this.held.delete(conn.id);
    if (conn.agentId === null) return;
    this.end(conn, reason);
    this.release(conn.agentId, conn);
  }

  /** Resolves once every release started so far has finished. */
  async settled(): Promise<void> {
    while (this.releases.size > 0) await Promise.allSettled([...this.releases]);
  }

  async bind(conn: Connection, agentId: string): Promise<'ok' | 'duplicate'> {
    const held = this.held.get(conn.id);
    if (conn.agentId !== null && conn.agentId !== agentId) {
      if (held !== undefined) this.end(held, 'instance_uid_changed');
      this.release(conn.agentId, conn);
    }
    conn.agentId = agentId;
    if (held === undefined || held.closed) return 'ok'; // closed while its message waited
    const me = this.owner(conn);
    let claim: Claim;
    this.claiming.add(conn.id);
    try {
      claim = await this.o.registry.claim(agentId, me);
    } catch (err) {
      this.redisFailed('registry_claim', err);
      return 'ok';
    } finally {
      this.claiming.delete(conn.id);
    }
    // Closed while claiming: its release was sent after the claim and removes the entry.
    if (!this.isCurrent(held, agentId)) return 'ok';
    const prev = claim.previous;
    if (prev === null || (prev.gatewayId === me.gatewayId && prev.connectionId === me.connectionId)) {
      this.open(held, agentId, claim.epoch);
      return 'ok';
    }
    const local = prev.gatewayId === this.o.gatewayId;
    const existingOwnerLive = !local || this.held.get(prev.connectionId)?.agentId === agentId;
    let recentTakeovers = 0;
    if (existingOwnerLive) {
      try {
        recentTakeovers = (await this.o.registry.noteTakeover(agentId, this.o.takeoverWindowMs)) - 1;
      } catch (err) {
        this.redisFailed('registry_takeover', err);
      }
    }
    const decision = decideDuplicate({ existingOwnerLive, recentTakeovers });
    this.o.metrics.takeovers.inc({ outcome: decision });
    if (decision === 'accept') {
      this.open(held, agentId, claim.epoch);
      return 'ok';
    }
    if (decision === 'takeover') {
      await this.closeOwner(prev, agentId);
      this.open(held, agentId, claim.epoch);
      return 'ok';
    }
    this.o.logger.warn(
      { agentId },
      'two live agents share one instance_uid; assigning the newcomer a new one',
    );
    conn.agentId = null;
    if (local && this.held.get(prev.connectionId)?.agentId === agentId) {
      // The previous owner is ours and still open: give the entry back at once.
      await this.o.registry
        .claim(agentId, prev)
        .catch((err: unknown) => this.redisFailed('registry_claim', err));
    } else {
      // Its gateway's next re-announce restores the entry; restoring it from here could resurrect
      // the entry of a connection that closed meanwhile (entries have no expiry).
      this.release(agentId, conn);
    }
    return 'duplicate';
  }

  /** Handles a command from another gateway (or this one) addressed to one of our connections. */
  handleCommand(cmd: GatewayCommand): void {
    const conn = this.held.get(cmd.connectionId);
    if (conn === undefined || conn.agentId !== cmd.agentId) return;
    conn.close(cmd.reason);
  }

  /**
   * Re-writes every held connection to the registry (filling entries lost with Redis data), re-writes
   * its last-seen, and opens the bindings that have no epoch yet. A connection whose agent another
   * connection owns is closed as replaced. Connections with a claim in flight are left to it.
   *
   * The last-seen re-written is the agent's real one, never a fresher one: now for an agent kept
   * alive by its open socket (see `keepalive`), the time of its last message for an agent that
   * reports heartbeats, so a silent agent with an open socket still times out.
   */
  async reannounce(): Promise<void> {
    const entries: ReannounceEntry[] = [];
    const sent = new Map<string, HeldConnection>();
    for (const conn of this.held.values()) {
      if (conn.agentId === null || conn.closed || this.claiming.has(conn.id)) continue;
      entries.push({ agentId: conn.agentId, owner: this.owner(conn), needsEpoch: conn.epoch === null });
      sent.set(conn.id, conn);
      this.o.presence.touch(conn.agentId, undefined, keptAliveBySocket(conn) ? undefined : conn.lastSeenAt);
    }
    if (entries.length === 0) return;
    const { conflicts, epochs } = await this.o.registry.reannounce(entries);
    for (const e of epochs) {
      const conn = sent.get(e.owner.connectionId);
      if (conn !== undefined) this.open(conn, e.agentId, e.epoch);
    }
    for (const c of conflicts) {
      for (const conn of sent.values()) {
        if (conn.agentId === c.agentId && conn.id !== c.current.connectionId && !this.claiming.has(conn.id)) {
          this.o.metrics.reannounceConflicts.inc();
          conn.close('replaced');
        }
      }
    }
  }

  /**
   * Touches the last-seen of every held, bound connection whose agent does not report heartbeats
   * (no ReportsHeartbeat capability in its last message): such an agent may stay silent for as long
   * as its socket is open, and its socket is checked by the transport (pings within the idle
   * timeout). Agents that report heartbeats are kept alive by their messages only. Meant to run
   * at an interval well below the sweeper's offline timeout. Returns how many it touched.
   */
  keepalive(): number {
    let n = 0;
    for (const conn of this.held.values()) {
      if (conn.agentId === null || conn.closed || !keptAliveBySocket(conn)) continue;
      this.o.presence.touch(conn.agentId);
      n += 1;
    }
    this.o.metrics.keepaliveTouches.inc(n);
    return n;
  }

  /** Gives the connection's current binding its epoch and emits its opening (once per binding). */
  private open(conn: HeldConnection, agentId: string, epoch: number): void {
    if (!this.isCurrent(conn, agentId) || conn.epoch !== null) return;
    conn.epoch = epoch;
    conn.historyId = bindingConnectionId(conn.id, conn.opens);
    conn.opens += 1;
    this.o.events.opened({ agentId, connectionId: conn.historyId, epoch }, 'ws', conn.remoteAddress);
    if (conn.pendingState !== null) {
      this.o.events.state(agentId, epoch, conn.pendingState);
      conn.pendingState = null;
    }
  }

  /** Ends the current binding: its closing is emitted if it was opened; pending state is dropped. */
  private end(conn: HeldConnection, reason: ConnectionCloseReason): void {
    if (conn.epoch !== null && conn.agentId !== null) {
      this.o.events.closed(
        { agentId: conn.agentId, connectionId: conn.historyId, epoch: conn.epoch },
        reason,
      );
    }
    conn.epoch = null;
    conn.pendingState = null;
  }

  /** The connection is open, held, and still bound to `agentId`. */
  private isCurrent(conn: HeldConnection, agentId: string): boolean {
    return !conn.closed && this.held.get(conn.id) === conn && conn.agentId === agentId;
  }

  private owner(conn: Connection): Owner {
    return { gatewayId: this.o.gatewayId, connectionId: conn.id };
  }

  private async closeOwner(prev: Owner, agentId: string): Promise<void> {
    if (prev.gatewayId === this.o.gatewayId) {
      this.handleCommand({ type: 'close', agentId, connectionId: prev.connectionId, reason: 'replaced' });
      return;
    }
    try {
      await this.o.bus.send(prev.gatewayId, {
        type: 'close',
        agentId,
        connectionId: prev.connectionId,
        reason: 'replaced',
      });
    } catch (err) {
      this.redisFailed('command_send', err);
    }
  }

  /**
   * Queues the release; the releases queued while the event loop handles one batch of socket events
   * go out together (one script call per chunk) once it is done: a burst of closes costs a few round
   * trips, not one each. Compare-and-delete keeps the delay harmless: a claim sent meanwhile by a
   * newer connection of the same agent is never undone.
   */
  private release(agentId: string, conn: Connection): void {
    this.queuedReleases.push({ agentId, owner: this.owner(conn) });
    if (this.queuedReleases.length > 1) return;
    const p = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        const batch = this.queuedReleases;
        this.queuedReleases = [];
        return this.o.registry.releaseMany(batch);
      })
      .catch((err: unknown) => this.redisFailed('registry_release', err))
      .finally(() => this.releases.delete(p));
    this.releases.add(p);
  }

  private redisFailed(operation: string, err: unknown): void {
    this.o.metrics.redisErrors.inc({ operation });
    this.o.logger.debug({ err, operation }, 'redis operation failed');
  }
}

/** The agent does not report heartbeats: its open socket is what keeps it alive. */
function keptAliveBySocket(conn: Connection): boolean {
  return !hasCapability(conn.capabilities, AgentCapabilities.ReportsHeartbeat);
}
