import { decideDuplicate } from '@opamp-fleet/opamp';
import type {
  CommandBus,
  ConnectionRegistry,
  GatewayCommand,
  Owner,
  PresenceWriter,
} from '@opamp-fleet/presence';
import type { Logger } from '@opamp-fleet/telemetry';
import type { CloseKind } from './close-codes.js';
import type { GatewayMetrics } from './metrics.js';
import type { AgentBinder, Connection } from './session-core.js';

/** A WebSocket connection as ownership sees it: bound to an agent, closable with a reason. */
export interface HeldConnection extends Connection {
  readonly closed: boolean;
  close(kind: CloseKind): void;
}

export interface OwnershipOptions {
  readonly gatewayId: string;
  readonly registry: ConnectionRegistry;
  readonly bus: Pick<CommandBus, 'send'>;
  readonly presence: Pick<PresenceWriter, 'touch'>;
  readonly takeoverWindowMs: number;
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
 */
export class Ownership implements AgentBinder {
  private readonly held = new Map<string, HeldConnection>();
  private readonly releases = new Set<Promise<unknown>>();

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

  /** Forgets a closed connection and releases its registry entry (compare-and-delete). */
  remove(conn: HeldConnection): void {
    this.held.delete(conn.id);
    if (conn.agentId !== null) this.release(conn.agentId, conn);
  }

  /** Resolves once every release started so far has finished. */
  async settled(): Promise<void> {
    while (this.releases.size > 0) await Promise.allSettled([...this.releases]);
  }

  async bind(conn: Connection, agentId: string): Promise<'ok' | 'duplicate'> {
    if (conn.agentId !== null && conn.agentId !== agentId) this.release(conn.agentId, conn);
    conn.agentId = agentId;
    const me = this.owner(conn);
    let prev: Owner | null;
    try {
      prev = await this.o.registry.claim(agentId, me);
    } catch (err) {
      this.redisFailed('registry_claim', err);
      return 'ok';
    }
    if (prev === null || (prev.gatewayId === me.gatewayId && prev.connectionId === me.connectionId))
      return 'ok';
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
    if (decision === 'accept') return 'ok';
    if (decision === 'takeover') {
      await this.closeOwner(prev, agentId);
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
   * Re-writes every held connection to the registry (filling entries lost with Redis data) and
   * touches its presence. A connection whose agent another connection owns is closed as replaced.
   */
  async reannounce(): Promise<void> {
    const entries = [];
    for (const conn of this.held.values()) {
      if (conn.agentId === null || conn.closed) continue;
      entries.push({ agentId: conn.agentId, owner: this.owner(conn) });
      this.o.presence.touch(conn.agentId);
    }
    if (entries.length === 0) return;
    const conflicts = await this.o.registry.reannounce(entries);
    for (const c of conflicts) {
      for (const conn of this.held.values()) {
        if (conn.agentId === c.agentId && conn.id !== c.current.connectionId) {
          this.o.metrics.reannounceConflicts.inc();
          conn.close('replaced');
        }
      }
    }
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

  private release(agentId: string, conn: Connection): void {
    const p = this.o.registry
      .release(agentId, this.owner(conn))
      .catch((err: unknown) => this.redisFailed('registry_release', err))
      .finally(() => this.releases.delete(p));
    this.releases.add(p);
  }

  private redisFailed(operation: string, err: unknown): void {
    this.o.metrics.redisErrors.inc({ operation });
    this.o.logger.debug({ err, operation }, 'redis operation failed');
  }
}
