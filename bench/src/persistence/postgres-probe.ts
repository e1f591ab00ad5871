import type postgres from 'postgres';

/**
 * Reads of the bench database, and the raw batched UPDATE the baseline measures. Times are epoch ms
 * as float8, so postgres.js returns numbers.
 */

/** agents.last_seen_at (epoch ms, null when unset) of the given ids; ids without a row are absent. */
export async function readLastSeen(
  sql: postgres.Sql,
  ids: readonly string[],
): Promise<Map<string, number | null>> {
  const rows = await sql<Array<{ id: string; ms: number | null }>>`
    select id, (extract(epoch from last_seen_at) * 1000)::float8 as ms
    from agents where id = any(${sql.array(ids as string[])}::text[])`;
  return new Map(rows.map((r) => [r.id, r.ms]));
}

/** Every agent id, in id order (the lock order the repositories write in). */
export async function listAgentIds(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<Array<{ id: string }>>`select id from agents order by id`;
  return rows.map((r) => r.id);
}

/** The raw statement of the baseline, as a string for the report. */
export const RAW_UPDATE_STATEMENT =
  'update agents a set last_seen_at = greatest(a.last_seen_at, to_timestamp(v.t / 1000)) ' +
  'from unnest($1::text[], $2::float8[]) as v(id, t) where a.id = v.id';

/** One raw batched last-seen UPDATE (`RAW_UPDATE_STATEMENT`); returns the rows it matched. */
export async function rawUpdateLastSeen(
  sql: postgres.Sql,
  ids: readonly string[],
  lastSeenMs: readonly number[],
): Promise<number> {
  const result = await sql`
    update agents a set last_seen_at = greatest(a.last_seen_at, to_timestamp(v.t / 1000))
    from unnest(${sql.array(ids as string[])}::text[], ${sql.array(lastSeenMs as number[])}::float8[]) as v(id, t)
    where a.id = v.id`;
  return result.count;
}

/** PIDs of the server backends connected to database `name` (other than this session). */
export async function backendPids(sql: postgres.Sql, name: string): Promise<number[]> {
  const rows = await sql<Array<{ pid: number }>>`
    select pid from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`;
  return rows.map((r) => r.pid);
}
