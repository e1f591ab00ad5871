import { applyConnectionEvents, applyStateEvents, type Db, flushLastSeen, markError } from '@opamp-fleet/db';
import { closed, opened } from '@opamp-fleet/db/testing';
import { createConnectionRegistry, lastSeenKey } from '@opamp-fleet/presence';
import type { Redis } from 'ioredis';

/** A canonical instance uid for test agent `n`. */
export const uid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** The agents {@link seedFleet} writes, by role. */
export const FLEET = {
  /** Online, seen by Redis a second ago, held by gateway gw-a (connection conn-fresh). */
  fresh: uid(1),
  /** Online in Postgres, last seen 5 min ago, its Redis score as old (no sweeper ran): reads offline, stale. */
  stale: uid(2),
  /** Online, Postgres last-seen 5 min old but a fresh Redis score: reads online. */
  redisFresh: uid(3),
  /** Offline (agent_disconnect) 3 min ago, after seven connections. */
  disconnected: uid(4),
  /** Offline (connection_closed) 1 min ago. */
  closed: uid(5),
  /** Error (offline_too_long). */
  broken: uid(6),
  /** Online in the registry only (no row): connected, events not written yet. */
  registryOnly: uid(7),
  /** Has a row, registry entry of gateway gw-gone that nobody listens to. */
  orphaned: uid(8),
  /** Never seen anywhere. */
  unknown: uid(99),
} as const;

export const HEALTH = { healthy: true, status: 'StatusOK', component_health_map: {} };
export const CONFIG_HASH = 'a'.repeat(64);

/**
 * Seeds Postgres (through the repositories, as the worker and sweeper would) and Redis (last-seen
 * set and registry, as the gateways would) with {@link FLEET}, relative to `nowMs` (Redis clock).
 */
export async function seedFleet(db: Db, redis: Redis, keyPrefix: string, nowMs: number): Promise<void> {
  const MIN = 60_000;
  let epoch = 0;
  const open = (agentId: string, c: string, at: number) =>
    opened(c, ++epoch, { agentId, at, gatewayId: 'gw-a' });
  await applyConnectionEvents(db, [
    open(FLEET.fresh, 'conn-fresh', nowMs - 10_000),
    open(FLEET.stale, 'conn-stale', nowMs - 10 * MIN),
    open(FLEET.redisFresh, 'conn-redis', nowMs - 10 * MIN),
    open(FLEET.orphaned, 'conn-orphan', nowMs - 10 * MIN),
  ]);
  for (let i = 0; i < 7; i++) {
    const c = `conn-d${i}`;
    const at = nowMs - (30 - i * 3) * MIN;
    await applyConnectionEvents(db, [
      open(FLEET.disconnected, c, at),
      closed(c, epoch, {
        agentId: FLEET.disconnected,
        gatewayId: 'gw-a',
        at: i === 6 ? nowMs - 3 * MIN : at + MIN,
        reason: 'agent_disconnect',
      }),
    ]);
  }
  await applyConnectionEvents(db, [open(FLEET.closed, 'conn-c', nowMs - 5 * MIN)]);
  await applyConnectionEvents(db, [
    closed('conn-c', epoch, { agentId: FLEET.closed, gatewayId: 'gw-a', at: nowMs - MIN }),
  ]);
  await applyConnectionEvents(db, [open(FLEET.broken, 'conn-b', nowMs - 60 * MIN)]);
  await applyConnectionEvents(db, [
    closed('conn-b', epoch, { agentId: FLEET.broken, gatewayId: 'gw-a', at: nowMs - 50 * MIN }),
  ]);
  await markError(db, {
    beforeMs: nowMs - 40 * MIN,
    limit: 10,
    reason: 'offline_too_long',
    atMs: nowMs - 30 * MIN,
  });
  await flushLastSeen(
    db,
    [FLEET.stale, FLEET.redisFresh, FLEET.fresh, FLEET.orphaned],
    [nowMs - 5 * MIN, nowMs - 5 * MIN, nowMs - 5_000, nowMs - 5_000],
  );
  await applyStateEvents(db, [
    {
      type: 'agent_state',
      agentId: FLEET.fresh,
      connectionEpoch: 1,
      sequenceNum: 3,
      at: nowMs - 5_000,
      description: {
        identifying: { 'service.name': 'checkout', 'service.instance.id': 'i-1' },
        nonIdentifying: { 'host.name': 'node-1', 'os.type': 'linux' },
      },
      capabilities: 0x2001,
      health: HEALTH,
      effectiveConfigHash: CONFIG_HASH,
    },
    {
      type: 'agent_state',
      agentId: FLEET.stale,
      connectionEpoch: 2,
      sequenceNum: 1,
      at: nowMs - 5 * MIN,
      description: { identifying: { 'service.name': 'cart' }, nonIdentifying: { 'host.name': 'node-1' } },
    },
  ]);
  await redis.zadd(
    lastSeenKey(keyPrefix),
    nowMs - 1_000,
    FLEET.fresh,
    nowMs - 2_000,
    FLEET.redisFresh,
    nowMs - 5 * MIN,
    FLEET.stale,
  );
  const registry = createConnectionRegistry({ redis, keyPrefix });
  await registry.claim(FLEET.fresh, { gatewayId: 'gw-a', connectionId: 'conn-fresh' });
  await registry.claim(FLEET.registryOnly, { gatewayId: 'gw-a', connectionId: 'conn-new' });
  await registry.claim(FLEET.orphaned, { gatewayId: 'gw-gone', connectionId: 'conn-orphan' });
}
