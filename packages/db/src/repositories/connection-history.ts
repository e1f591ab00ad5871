import { sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';
import type { ConnectionClosed, ConnectionEvent, ConnectionOpened } from '../events.js';
import { col, tsFromMs, unnestAs } from './batch.js';

interface HistoryRow {
  open?: ConnectionOpened;
  close?: ConnectionClosed;
}

/**
 * Upserts one history row per connection of `events` (the first open and first close of each
 * connection) in one statement, in connection id order. Only NULL columns are filled; a row that
 * would not change is not written. Returns the number of rows inserted or completed.
 */
export async function upsertHistory(tx: DbExecutor, events: readonly ConnectionEvent[]): Promise<number> {
  const byConnection = new Map<string, HistoryRow>();
  for (const e of events) {
    const row = byConnection.get(e.connectionId) ?? {};
    if (e.type === 'connection_opened') row.open ??= e;
    else row.close ??= e;
    byConnection.set(e.connectionId, row);
  }
  const rows = [...byConnection.values()];
  if (rows.length === 0) return 0;
  const first = (r: HistoryRow) => (r.open ?? r.close)!;
  const written = await tx.execute(sql`
    insert into agent_connection_history as h (
      connection_id, agent_id, connection_epoch, gateway_id, transport, remote_address,
      connected_at, disconnected_at, duration_seconds, disconnect_reason)
    select v.connection_id, v.agent_id, v.epoch, v.gateway_id, v.transport, v.remote_address,
      v.connected_at, v.disconnected_at,
      extract(epoch from v.disconnected_at - v.connected_at)::float8, v.reason
    from (
      select u.connection_id, u.agent_id, u.epoch, u.gateway_id, u.transport, u.remote_address,
        ${tsFromMs(sql`u.connected_ms`)} as connected_at,
        ${tsFromMs(sql`u.disconnected_ms`)} as disconnected_at, u.reason
      from ${unnestAs('u', {
        connection_id: col.text(rows.map((r) => first(r).connectionId)),
        agent_id: col.text(rows.map((r) => first(r).agentId)),
        epoch: col.bigint(rows.map((r) => first(r).connectionEpoch)),
        gateway_id: col.text(rows.map((r) => first(r).gatewayId)),
        transport: col.text(rows.map((r) => r.open?.transport ?? null)),
        remote_address: col.text(rows.map((r) => r.open?.remoteAddress ?? null)),
        connected_ms: col.float8(rows.map((r) => r.open?.at ?? null)),
        disconnected_ms: col.float8(rows.map((r) => r.close?.at ?? null)),
        reason: col.text(rows.map((r) => r.close?.reason ?? null)),
      })}
    ) as v
    order by v.connection_id
    on conflict (connection_id) do update set
      transport = coalesce(h.transport, excluded.transport),
      remote_address = coalesce(h.remote_address, excluded.remote_address),
      connected_at = coalesce(h.connected_at, excluded.connected_at),
      disconnected_at = coalesce(h.disconnected_at, excluded.disconnected_at),
      disconnect_reason = coalesce(h.disconnect_reason, excluded.disconnect_reason),
      duration_seconds = extract(epoch from
        coalesce(h.disconnected_at, excluded.disconnected_at) - coalesce(h.connected_at, excluded.connected_at)
      )::float8
    where (h.transport is null and excluded.transport is not null)
       or (h.remote_address is null and excluded.remote_address is not null)
       or (h.connected_at is null and excluded.connected_at is not null)
       or (h.disconnected_at is null and excluded.disconnected_at is not null)
       or (h.disconnect_reason is null and excluded.disconnect_reason is not null)`);
  return written.count;
}
