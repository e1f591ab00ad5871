import {
  type CloseReason,
  type CommandBus,
  type ConnectionRegistry,
  decodeOwner,
  isBindingOf,
  type Owner,
  presenceKeys,
  type SessionStore,
} from '@opamp-fleet/presence';
import type { Redis } from 'ioredis';

/** A connection the sweeper took offline: the agent and the connection Postgres had as current. */
export interface TimedOutConnection {
  agentId: string;
  connectionId: string | null;
  /** Its transport as Postgres recorded it; null when unknown (treated as a WebSocket). */
  transport: 'ws' | 'http' | null;
}

export interface CloseSummary {
  /** Close commands delivered to a subscribed gateway. */
  sent: number;
  /** Plain-HTTP sessions ended, so the agent's next poll opens a new one. */
  sessionsEnded: number;
  /**
   * Nothing to end: no connection recorded, no live owner or an owner on another socket (the agent
   * reconnected), or another plain-HTTP session than the one taken offline.
   */
  skipped: number;
  /** Commands nobody received (the owning gateway is gone): its stale ownership was released. */
  orphaned: number;
  /** Lookups, sends, releases or session ends that failed. */
  failed: number;
}

/**
 * Ends what is left in Redis of the connections of timed-out agents, so the registry and the
 * sessions stay true and an agent that is alive after all comes back online with a new connection:
 * - WebSocket: asks the gateway holding the socket to close it; if no gateway receives the command
 *   (the owner's gateway is gone), releases that exact stale owner (compare-and-delete);
 * - plain HTTP: ends the agent's HTTP session if it is still the one taken offline
 *   (compare-and-delete), so the agent's next poll opens a new session (connection_opened).
 *
 * Contract: best effort and at most once (pub/sub); never rejects, failures are counted. Only the
 * connection the sweeper took offline is ended: a WebSocket's command names the registry's socket
 * id and is sent only when the connection Postgres holds is a binding of that socket; an agent now
 * owned by another socket, or in another HTTP session (it reconnected), is left alone.
 */
export interface StaleConnectionCloser {
  close(connections: readonly TimedOutConnection[]): Promise<CloseSummary>;
}

export interface RegistryCloserOptions {
  /** Reads the owners hash (one HMGET per call). */
  redis: Redis;
  keyPrefix?: string;
  bus: Pick<CommandBus, 'send'>;
  registry: Pick<ConnectionRegistry, 'release'>;
  sessions: Pick<SessionStore, 'closeHttpSession'>;
  /** The reason the gateway records for the close. */
  reason: CloseReason;
}

/**
 * Closes WebSockets through the connection registry (who owns the agent) and the gateways' command
 * bus, and ends plain-HTTP sessions in the session store.
 */
export function createRegistryCloser(options: RegistryCloserOptions): StaleConnectionCloser {
  const owners = presenceKeys(options.keyPrefix).owners;
  return {
    async close(connections) {
      const summary: CloseSummary = { sent: 0, sessionsEnded: 0, skipped: 0, orphaned: 0, failed: 0 };
      const known = connections.filter((c) => c.connectionId !== null);
      summary.skipped = connections.length - known.length;
      const sessions = known.filter((c) => c.transport === 'http');
      const sockets = known.filter((c) => c.transport !== 'http');
      await Promise.all([endSessions(sessions, summary), closeSockets(sockets, summary)]);
      return summary;
    },
  };

  async function endSessions(targets: readonly TimedOutConnection[], summary: CloseSummary): Promise<void> {
    await Promise.all(
      targets.map(async (c) => {
        try {
          const ended = await options.sessions.closeHttpSession(c.agentId, c.connectionId!);
          if (ended === null) summary.skipped += 1;
          else summary.sessionsEnded += 1;
        } catch {
          summary.failed += 1;
        }
      }),
    );
  }

  async function closeSockets(targets: readonly TimedOutConnection[], summary: CloseSummary): Promise<void> {
    if (targets.length === 0) return;
    let raw: (string | null)[];
    try {
      raw = await options.redis.hmget(owners, ...targets.map((c) => c.agentId));
    } catch {
      summary.failed += targets.length;
      return;
    }
    await Promise.all(
      targets.map(async (c, i) => {
        const owner = parseOwner(raw[i] ?? null);
        if (owner === null || !isBindingOf(c.connectionId!, owner.connectionId)) {
          summary.skipped += 1;
          return;
        }
        try {
          const receivers = await options.bus.send(owner.gatewayId, {
            type: 'close',
            agentId: c.agentId,
            connectionId: owner.connectionId,
            reason: options.reason,
          });
          if (receivers > 0) {
            summary.sent += 1;
          } else {
            await options.registry.release(c.agentId, owner);
            summary.orphaned += 1;
          }
        } catch {
          summary.failed += 1;
        }
      }),
    );
  }
}

function parseOwner(raw: string | null): Owner | null {
  if (raw === null) return null;
  try {
    return decodeOwner(raw);
  } catch {
    return null;
  }
}
