import { type SQL, sql } from 'drizzle-orm';
import { checkInt, DbOptionError } from '../errors.js';
import type { AgentDescription, AgentRow, AgentStatus, Transport } from '../schema/agents.js';
import { constantSql } from './prepared.js';

/**
 * A position in a newest-first keyset of the read API: a time in microseconds since the Unix epoch
 * (null for the rows whose time is unknown, which are listed after all others) and the row's id.
 * Microseconds are exact for every Postgres timestamp, so a key taken from a row finds that row
 * again; whole milliseconds would not.
 */
export interface TimeKey<Id extends string | number = string> {
  us: number | null;
  id: Id;
}

/** Microseconds since the Unix epoch of a timestamptz expression, as bigint (NULL stays NULL). */
export function usOf(expr: SQL): SQL {
  return sql`(extract(epoch from ${expr}) * 1000000)::bigint`;
}

/** The timestamptz of `us` microseconds since the Unix epoch (exact). */
export function tsFromUs(us: number): SQL {
  return sql`(timestamptz 'epoch' + ${us}::bigint * interval '1 microsecond')`;
}

/** The timestamptz of `ms` milliseconds since the Unix epoch (exact for whole and fractional ms). */
export function tsFromMsExact(ms: number): SQL {
  return tsFromUs(Math.round(ms * 1000));
}

/** A bigint or numeric value as postgres.js returns it (text), or null. */
export function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A Date (millisecond precision) from a microsecond value as returned by {@link usOf}. */
export function dateFromUs(value: unknown): Date | null {
  const us = num(value);
  return us === null ? null : new Date(Math.floor(us / 1000));
}

/** Checks a page size of the read API: an integer in [1, 10000]. */
export function checkLimit(limit: number): number {
  return checkInt('limit', limit, 1, 10_000);
}

/**
 * A LIMIT written into the statement's text rather than bound as a parameter: `limit` rounded up to
 * three significant bits (8..15 times a power of two, at most 12.5 % more rows; about 90 distinct
 * values up to 10,000, so a connection caches few statements). Postgres costs a generic plan with a
 * LIMIT parameter as if it read a tenth of the table, so a statement whose limits are all
 * parameters is re-planned on every execution; with this literal its generic plan costs what a
 * custom plan does and Postgres keeps it. Bound the statement's final result with the exact limit.
 */
export function planLimit(limit: number): SQL {
  const n = checkLimit(limit);
  const step = n < 16 ? 1 : 2 ** (Math.floor(Math.log2(n)) - 3);
  return sql.raw(String(Math.ceil(n / step) * step));
}

/** Checks a keyset position before it reaches SQL. */
export function checkKey<Id extends string | number>(
  name: string,
  key: TimeKey<Id>,
  idType: 'string' | 'number',
) {
  const okUs = key.us === null || Number.isSafeInteger(key.us);
  const okId =
    idType === 'string'
      ? typeof key.id === 'string' && key.id.length > 0
      : Number.isSafeInteger(key.id) && (key.id as number) >= 0;
  if (!okUs || !okId) throw new DbOptionError(`${name} is not a valid position: ${JSON.stringify(key)}`);
}

/** What a status read shows of an agent: its stored status and connection timeline. */
export type AgentStatusRow = Pick<
  AgentRow,
  | 'id'
  | 'status'
  | 'statusReason'
  | 'statusChangedAt'
  | 'lastSeenAt'
  | 'lastConnectedAt'
  | 'lastDisconnectedAt'
  | 'disconnectReason'
  | 'transport'
>;

/** What a listing shows of an agent: its status, connection timeline and description. */
export type AgentSummaryRow = AgentStatusRow & Pick<AgentRow, 'description'>;

/**
 * The columns of `agents a` behind {@link AgentSummaryRow}, timestamps as microseconds, for
 * {@link toSummaryRow}. Listings read only these: every value costs the client a parse.
 */
export const SUMMARY_COLUMNS = constantSql(sql`a.id, a.status, a.status_reason,
  ${usOf(sql`a.status_changed_at`)} as status_changed_us, ${usOf(sql`a.last_seen_at`)} as last_seen_us,
  ${usOf(sql`a.last_connected_at`)} as last_connected_us,
  ${usOf(sql`a.last_disconnected_at`)} as last_disconnected_us,
  a.disconnect_reason, a.transport, a.description`);

/** A row selected with {@link SUMMARY_COLUMNS}. */
export type RawAgentRow = Record<string, unknown>;

/** Maps a row selected with {@link SUMMARY_COLUMNS}. */
export function toSummaryRow(r: RawAgentRow): AgentSummaryRow {
  return {
    id: r.id as string,
    status: r.status as AgentStatus,
    statusReason: (r.status_reason as string | null) ?? null,
    statusChangedAt: dateFromUs(r.status_changed_us),
    lastSeenAt: dateFromUs(r.last_seen_us),
    lastConnectedAt: dateFromUs(r.last_connected_us),
    lastDisconnectedAt: dateFromUs(r.last_disconnected_us),
    disconnectReason: (r.disconnect_reason as string | null) ?? null,
    transport: (r.transport as Transport | null) ?? null,
    description: (r.description as AgentDescription | null) ?? null,
  };
}
