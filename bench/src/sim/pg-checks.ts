/**
 * What the simulator scenarios read from the bench database: agents online, status transitions
 * (offline ones are false when the agent was alive), when left agents went offline, and the
 * connection history rows written.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type postgres from 'postgres';

/** Polls until every id is online in Postgres or `timeoutMs` passes; returns how many are. */
export async function waitOnline(
  sql: postgres.Sql,
  ids: readonly string[],
  timeoutMs: number,
): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from agents where id = any(${ids as string[]}) and status = 'online'`;
    const online = row?.n ?? 0;
    if (online >= ids.length || Date.now() >= end) return online;
    await sleep(250);
  }
}

export interface TransitionRow {
  agentId: string;
  toStatus: string;
  reason: string | null;
  atMs: number;
}

/** Transitions away from online at or after `sinceMs` (epoch ms), of `ids` when given. */
export async function leavingOnline(
  sql: postgres.Sql,
  sinceMs: number,
  ids: readonly string[] | null = null,
): Promise<TransitionRow[]> {
  const since = new Date(sinceMs);
  const rows = await sql<{ agent_id: string; to_status: string; reason: string | null; at_ms: number }[]>`
    select agent_id, to_status, reason, (extract(epoch from at) * 1000)::float8 as at_ms
    from agent_status_transitions
    where at >= ${since} and to_status <> 'online'
      ${ids === null ? sql`` : sql`and agent_id = any(${ids as string[]})`}
    order by at`;
  return rows.map((r) => ({ agentId: r.agent_id, toStatus: r.to_status, reason: r.reason, atMs: r.at_ms }));
}

/** Counts by `reason`. */
export function byReason(rows: readonly TransitionRow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.reason ?? 'none'] = (counts[r.reason ?? 'none'] ?? 0) + 1;
  return counts;
}

/** Status and status_changed_at (epoch ms, null when never changed) of each id found. */
export async function statusOf(
  sql: postgres.Sql,
  ids: readonly string[],
): Promise<Map<string, { status: string; changedMs: number | null }>> {
  const rows = await sql<{ id: string; status: string; changed_ms: number | null }[]>`
    select id, status, (extract(epoch from status_changed_at) * 1000)::float8 as changed_ms
    from agents where id = any(${ids as string[]})`;
  return new Map(rows.map((r) => [r.id, { status: r.status, changedMs: r.changed_ms }]));
}

export interface HistoryCounts {
  /** Rows by transport (`ws`, `http`, `unknown` while the open is not applied yet). */
  rows: Record<string, number>;
  /** Rows with disconnected_at set. */
  closed: number;
  /** Rows by disconnect_reason. */
  closeReasons: Record<string, number>;
}

export async function connectionHistory(sql: postgres.Sql): Promise<HistoryCounts> {
  const byTransport = await sql<{ transport: string | null; n: number }[]>`
    select transport, count(*)::int as n from agent_connection_history group by transport`;
  const reasons = await sql<{ reason: string | null; n: number }[]>`
    select disconnect_reason as reason, count(*)::int as n from agent_connection_history
    where disconnected_at is not null group by disconnect_reason`;
  return {
    rows: Object.fromEntries(byTransport.map((r) => [r.transport ?? 'unknown', r.n])),
    closed: reasons.reduce((sum, r) => sum + r.n, 0),
    closeReasons: Object.fromEntries(reasons.map((r) => [r.reason ?? 'none', r.n])),
  };
}

/**
 * For each transition away from online at or after `sinceMs`: ms until the agent's next transition
 * back to online (null when it did not come back).
 */
export async function offlineSpells(sql: postgres.Sql, sinceMs: number): Promise<Array<number | null>> {
  const rows = await sql<{ ms: number | null }[]>`
    select (extract(epoch from (back.at - t.at)) * 1000)::float8 as ms
    from agent_status_transitions t
    left join lateral (
      select n.at from agent_status_transitions n
      where n.agent_id = t.agent_id and n.to_status = 'online' and n.id > t.id
      order by n.id limit 1
    ) back on true
    where t.at >= ${new Date(sinceMs)} and t.to_status <> 'online'`;
  return rows.map((r) => r.ms);
}
