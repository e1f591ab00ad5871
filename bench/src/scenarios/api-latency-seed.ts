import type { Redis } from 'ioredis';
import type postgres from 'postgres';

/** What the seed wrote. */
export interface SeededFleet {
  ids: string[];
  online: number;
  offline: number;
}

/**
 * Seeds `agents` agents in one set-based statement per table: 60 % online (with a fresh last-seen in
 * the Redis sorted set), 40 % offline (connection_closed or heartbeat_timeout, spread over the last
 * day); each has a connection-history row and its transitions (connect, and the offline one). The
 * tables are then vacuumed and analyzed, as autovacuum keeps a live table, and checkpointed.
 */
export async function seedFleet(
  sql: postgres.Sql,
  redis: Redis,
  keyPrefix: string,
  agents: number,
): Promise<SeededFleet> {
  await sql`
    insert into agents (id, status, status_reason, status_changed_at, last_seen_at, last_connected_at,
      last_disconnected_at, disconnect_reason, current_connection_id, connection_epoch, transport,
      description, capabilities)
    select id,
      case when online then 'online' else 'offline' end,
      case when online then 'connected' when g % 2 = 0 then 'connection_closed' else 'heartbeat_timeout' end,
      case when online then connected else offline_at end,
      case when online then now() else offline_at end,
      connected,
      case when online then null else offline_at end,
      case when online then null when g % 2 = 0 then 'connection_closed' else 'heartbeat_timeout' end,
      case when online then id || '-c1' else null end,
      1, 'ws',
      jsonb_build_object(
        'identifying', jsonb_build_object('service.name', 'svc-' || (g % 50), 'service.instance.id', id),
        'nonIdentifying', jsonb_build_object('host.name', 'node-' || (g % 500), 'os.type', 'linux')),
      7
    from (
      select g, gen_random_uuid()::text as id, g % 5 < 3 as online,
        now() - interval '2 days' + (g % 3600) * interval '1 second' as connected,
        now() - (g % 86400) * interval '1 second' - interval '1 minute' as offline_at
      from generate_series(1, ${agents}::int) g
    ) s`;
  await sql`
    insert into agent_connection_history (connection_id, agent_id, connection_epoch, gateway_id, transport,
      remote_address, connected_at, disconnected_at, duration_seconds, disconnect_reason)
    select id || '-c1', id, 1, 'gw-bench', 'ws', '10.0.0.1', last_connected_at, last_disconnected_at,
      extract(epoch from last_disconnected_at - last_connected_at), disconnect_reason
    from agents`;
  await sql`
    insert into agent_status_transitions (event_id, agent_id, from_status, to_status, reason, at, decided_by,
      connection_id)
    select id || '-on', id, null, 'online', 'connected', last_connected_at, 'gateway', id || '-c1' from agents
    union all
    select id || '-off', id, 'online', 'offline', status_reason, status_changed_at,
      case when status_reason = 'heartbeat_timeout' then 'sweeper' else 'gateway' end, id || '-c1'
    from agents where status = 'offline'`;
  // the steady state of a live table: vacuumed (visibility map set, no autovacuum run of the fresh
  // rows during the measurement) and analyzed
  await sql`vacuum (analyze) agents, agent_connection_history, agent_status_transitions`;
  // write the seed's dirty pages out now rather than in a checkpoint during the measurements; a
  // role that may not checkpoint skips it
  await sql`checkpoint`.catch((err: { code?: string }) => {
    if (err.code !== '42501') throw err;
  });
  const rows = await sql<{ id: string; status: string }[]>`select id, status from agents`;
  const onlineIds = rows.filter((r) => r.status === 'online').map((r) => r.id);
  const key = `${keyPrefix}lastseen`; // the presence package's last-seen sorted set
  const nowMs = Date.now();
  for (let i = 0; i < onlineIds.length; i += 2000) {
    const args = onlineIds.slice(i, i + 2000).flatMap((id) => [nowMs, id]);
    await redis.zadd(key, ...args);
  }
  return { ids: rows.map((r) => r.id), online: onlineIds.length, offline: rows.length - onlineIds.length };
}
