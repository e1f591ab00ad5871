import {
  type CloseReason,
  type CommandBus,
  type ConnectionRegistry,
  decodeOwner,
  type Owner,
  presenceKeys,
} from '@opamp-fleet/presence';
import type { Redis } from 'ioredis';

/** A connection the sweeper took offline: the agent and the connection Postgres had as current. */
export interface TimedOutConnection {
  agentId: string;
  connectionId: string | null;
}

export interface CloseSummary {
  /** Close commands delivered to a subscribed gateway. */
  sent: number;
  /** Agents with no live owner, or owned by another connection than the one taken offline. */
  skipped: number;
  /** Commands nobody received (the owning gateway is gone): its stale ownership was released. */
  orphaned: number;
  /** Lookups or sends that failed. */
  failed: number;
}

/**
 * Asks the gateways still holding sockets of timed-out agents to close them, so the registry stays
 * true and the agent reconnects if it is in fact alive.
 *
 * Contract: best effort and at most once (pub/sub); never rejects, failures are counted. Only the
 * socket of the connection the sweeper took offline is closed (the command names the registry's
 * socket id): an agent now owned by another socket (it reconnected) is left alone.
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
  /** The reason the gateway records for the close. */
  reason: CloseReason;
}

/** Closes through the connection registry (who owns the agent) and the gateways' command bus. */
export function createRegistryCloser(options: RegistryCloserOptions): StaleConnectionCloser {
  const owners = presenceKeys(options.keyPrefix).owners;
  return {
    async close(connections) {
      const summary: CloseSummary = { sent: 0, skipped: 0, orphaned: 0, failed: 0 };
      const targets = connections.filter((c) => c.connectionId !== null);
      summary.skipped = connections.length - targets.length;
      if (targets.length === 0) return summary;
      let raw: (string | null)[];
      try {
        raw = await options.redis.hmget(owners, ...targets.map((c) => c.agentId));
      } catch {
        summary.failed += targets.length;
        return summary;
      }
      await Promise.all(
        targets.map(async (c, i) => {
          const owner = parseOwner(raw[i] ?? null);
          if (owner === null || !isBindingOf(c.connectionId!, owner)) {
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
      return summary;
    },
  };
}

/**
 * True when the history connection id Postgres holds belongs to the socket `owner` names: gateways
 * record a socket's first binding under the socket id and later ones as `<socket id>.<n>`.
 */
export function isBindingOf(historyId: string, owner: Owner): boolean {
  return historyId === owner.connectionId || historyId.startsWith(`${owner.connectionId}.`);
}

function parseOwner(raw: string | null): Owner | null {
  if (raw === null) return null;
  try {
    return decodeOwner(raw);
  } catch {
    return null;
  }
}
