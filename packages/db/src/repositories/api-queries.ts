import { type SQL, sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';
import { checkInt, DbOptionError } from '../errors.js';
import { AGENT_STATUSES, type AgentStatus } from '../schema/agents.js';
import {
  type AgentSummaryRow,
  checkKey,
  checkLimit,
  dateFromUs,
  num,
  planLimit,
  SUMMARY_COLUMNS,
  type TimeKey,
  toSummaryRow,
  tsFromMsExact,
  tsFromUs,
  usOf,
} from './api-rows.js';
import { col, tsFromMs, unnestAs } from './batch.js';
import { constantSql, executePrepared } from './prepared.js';

/** An attribute filter: the agent's identifying OR non-identifying attributes hold `key` = `value`. */
export interface AttributeFilter {
  key: string;
  /** Matched as a JSON string. */
  value: string;
}

export interface AgentsPageOptions {
  /** 1..10000. */
  limit: number;
  /** Agents with an id greater than this, or from the first. */
  afterId?: string | null;
  status?: AgentStatus;
  /**
   * With status 'offline': also list online agents that Postgres last saw (or saw connect) before
   * this time, ms since the Unix epoch: candidates for a read-time offline that the caller
   * re-checks against the fresher last-seen set.
   */
  staleBeforeMs?: number;
  /** All must match (AND); each is served by the GIN index on description. */
  attributes?: readonly AttributeFilter[];
}

/** What makes an online agent read as offline: see {@link OfflinePageOptions.stale}. */
export interface StaleRule {
  /** Online agents whose freshest recorded time is before this (ms since the Unix epoch). */
  beforeMs: number;
  /** Added to that time to give their `offlineSince`. */
  timeoutMs: number;
  /** The reason such agents are listed under (`reason` filter). */
  reason: string;
  /**
   * Where the candidates come from. Given: exactly these agents (ids with their last-seen score in
   * ms, e.g. the expired entries of the Redis last-seen set), each listed when it is online in
   * Postgres and its freshest time - the later of the score, last_seen_at and last_connected_at - is
   * before `beforeMs`: a join on the primary key. Omitted: every online agent, by a scan of the
   * table (no index covers last-seen times: last_seen_at changes with every flush, and an index on
   * it would cost every flush an index entry per row instead of a HOT update).
   */
  candidates?: StaleCandidates;
}

/** Agents with a last-seen time, as parallel arrays (see {@link StaleRule.candidates}). */
export interface StaleCandidates {
  ids: readonly string[];
  seenMs: readonly number[];
}

export interface OfflinePageOptions {
  limit: number;
  after?: TimeKey | null;
  /** Only agents offline since this time or later (ms); excludes those with an unknown time. */
  sinceMs?: number;
  /** Only agents whose status_reason is this. */
  reason?: string;
  /**
   * Also list online agents that Postgres saw last (last_seen_at, or last_connected_at when later)
   * before `beforeMs`, offline since that time + `timeoutMs`: candidates for a read-time offline.
   */
  stale?: StaleRule;
}

export interface OfflinePageRow {
  agent: AgentSummaryRow;
  /** status_changed_at of an offline agent; freshest time + timeout of a stale candidate. */
  offlineSince: Date | null;
  /** The agent is online in Postgres and listed as a stale candidate. */
  staleCandidate: boolean;
  /** Position of this row: (offlineSince in µs or null, id). */
  key: TimeKey;
}

export interface StaleOnlineAgent {
  agentId: string;
  /** The later of last_seen_at and last_connected_at, ms since the Unix epoch. */
  freshestMs: number;
}

const FRESHEST = constantSql(sql`greatest(a.last_seen_at, a.last_connected_at)`);

/** Online agents that Postgres saw last (or saw connect) before `beforeMs`. */
function staleOnline(beforeMs: number): SQL {
  const before = tsFromMsExact(beforeMs);
  return sql`a.status = 'online' and (a.last_seen_at is null or a.last_seen_at < ${before})
    and ${FRESHEST} < ${before}`;
}

function checkMs(name: string, value: number | undefined): void {
  if (value !== undefined && !Number.isFinite(value)) throw new DbOptionError(`${name} must be finite`);
}

function checkCandidates(c: StaleCandidates): void {
  if (c.ids.length !== c.seenMs.length) {
    throw new DbOptionError(`stale.candidates: ${c.ids.length} ids but ${c.seenMs.length} times`);
  }
  c.ids.forEach((id, i) => {
    if (typeof id !== 'string' || id.length === 0) {
      throw new DbOptionError(`stale.candidates.ids[${i}] must be a non-empty string`);
    }
    checkMs(`stale.candidates.seenMs[${i}]`, c.seenMs[i]);
  });
}

function attributeMatch(f: AttributeFilter, i: number): SQL {
  if (typeof f.key !== 'string' || f.key.length === 0 || typeof f.value !== 'string') {
    throw new DbOptionError(`attributes[${i}] must have a non-empty key and a string value`);
  }
  const identifying = JSON.stringify({ identifying: { [f.key]: f.value } });
  const nonIdentifying = JSON.stringify({ nonIdentifying: { [f.key]: f.value } });
  return sql`(a.description @> ${identifying}::jsonb or a.description @> ${nonIdentifying}::jsonb)`;
}

/** The statement behind {@link pageAgents}. */
export function agentsPageQuery(options: AgentsPageOptions): SQL {
  const limit = checkLimit(options.limit);
  checkMs('staleBeforeMs', options.staleBeforeMs);
  const where: SQL[] = [];
  if (options.afterId != null) where.push(sql`a.id > ${options.afterId}`);
  if (options.status === 'offline' && options.staleBeforeMs !== undefined) {
    where.push(sql`(a.status = 'offline' or (${staleOnline(options.staleBeforeMs)}))`);
  } else if (options.status !== undefined) {
    if (!AGENT_STATUSES.includes(options.status)) throw new DbOptionError(`unknown status ${options.status}`);
    where.push(sql`a.status = ${options.status}`);
  }
  (options.attributes ?? []).forEach((f, i) => {
    where.push(attributeMatch(f, i));
  });
  const filter = where.length > 0 ? sql`where ${sql.join(where, sql` and `)}` : sql``;
  return sql`select ${SUMMARY_COLUMNS} from agents a ${filter} order by a.id limit ${limit}`;
}

/** One page of agents in id order (primary key), filtered by stored status and attributes. */
export async function pageAgents(db: DbExecutor, options: AgentsPageOptions): Promise<AgentSummaryRow[]> {
  const rows = await executePrepared(db, agentsPageQuery(options));
  return rows.map(toSummaryRow);
}

/**
 * The statement behind {@link pageOfflineAgents}. Three branches, each reading at most `limit` rows
 * (rounded up by {@link planLimit}):
 * offline agents by (status_changed_at desc, id) from the (status, status_changed_at desc, id)
 * index; stale online candidates by (freshest time desc, id), joined by primary key from the given
 * candidates or else scanned (see {@link StaleRule.candidates}), their offline-time bounds shifted back
 * by the timeout (left out when the candidate list is empty); offline agents whose status_changed_at
 * is unknown, by id, last.
 */
export function offlinePageQuery(options: OfflinePageOptions): SQL {
  const limit = checkLimit(options.limit);
  // literal branch limits let Postgres keep one generic plan of this prepared statement
  const branchLimit = planLimit(limit);
  const after = options.after ?? null;
  if (after) checkKey('after', after, 'string');
  checkMs('sinceMs', options.sinceMs);
  const stale = options.stale;
  if (stale) {
    checkMs('stale.beforeMs', stale.beforeMs);
    checkInt('stale.timeoutMs', stale.timeoutMs, 0);
    if (stale.candidates) checkCandidates(stale.candidates);
  }
  const since = options.sinceMs === undefined ? null : tsFromMsExact(options.sinceMs);
  const reason = options.reason === undefined ? sql`` : sql`and a.status_reason = ${options.reason}`;
  // `shift` turns a bound on the listed time into one on the indexed time: k + shift <= t exactly
  // when k <= t - shift (whole microseconds, no rounding).
  const afterTime = (k: SQL, shift: SQL = sql``) => {
    if (!after) return sql``;
    const t = sql`${tsFromUs(after.us!)}${shift}`;
    return sql`and ${k} <= ${t} and (${k} < ${t} or a.id > ${after.id})`;
  };
  const branches: SQL[] = [];
  if (after?.us !== null) {
    const k = sql`a.status_changed_at`;
    branches.push(sql`(select ${SUMMARY_COLUMNS}, ${usOf(k)} as key_us, false as stale, 0 as part
      from agents a
      where a.status = 'offline' and ${k} is not null ${since ? sql`and ${k} >= ${since}` : sql``}
        ${reason} ${afterTime(k)}
      order by ${k} desc nulls last, a.id
      limit ${branchLimit})`);
    // an empty candidate list lists nobody: the statement leaves the branch out (and with it the
    // bound arrays, so Postgres keeps one generic plan instead of planning every execution)
    if (
      stale &&
      stale.candidates?.ids.length !== 0 &&
      (options.reason === undefined || options.reason === stale.reason)
    ) {
      const timeout = sql`${stale.timeoutMs}::bigint * interval '1 millisecond'`;
      const minus = sql` - ${timeout}`;
      const c = stale.candidates;
      const fresh = c ? sql`greatest(${tsFromMs(sql`v.seen_ms`)}, ${FRESHEST})` : FRESHEST;
      const from = c
        ? sql`${unnestAs('v', { id: col.text(c.ids), seen_ms: col.float8(c.seenMs) })} join agents a on a.id = v.id`
        : sql`agents a`;
      branches.push(sql`(select ${SUMMARY_COLUMNS}, ${usOf(sql`(${fresh} + ${timeout})`)} as key_us,
          true as stale, 0 as part
        from ${from}
        where a.status = 'online' and ${fresh} < ${tsFromMsExact(stale.beforeMs)}
          ${since ? sql`and ${fresh} >= ${since}${minus}` : sql``} ${afterTime(fresh, minus)}
        order by ${fresh} desc, a.id
        limit ${branchLimit})`);
    }
  }
  if (since === null) {
    branches.push(sql`(select ${SUMMARY_COLUMNS}, null::bigint as key_us, false as stale, 1 as part
      from agents a
      where a.status = 'offline' and a.status_changed_at is null ${reason}
        ${after?.us === null ? sql`and a.id > ${after.id}` : sql``}
      order by a.id
      limit ${branchLimit})`);
  }
  if (branches.length === 0) return sql`select null where false`;
  return sql`select * from (${sql.join(branches, sql` union all `)}) p
    order by p.part, p.key_us desc, p.id
    limit ${limit}`;
}

/**
 * One page of offline agents, most recently offline first; agents whose offline time is unknown
 * come last. With `stale`, online agents that Postgres saw last too long ago are merged in by
 * their would-be offline time (see {@link OfflinePageOptions.stale}). Pass the last row's `key` as
 * `after` for the next page.
 */
export async function pageOfflineAgents(
  db: DbExecutor,
  options: OfflinePageOptions,
): Promise<OfflinePageRow[]> {
  const rows = await executePrepared(db, offlinePageQuery(options));
  const out: OfflinePageRow[] = [];
  for (const r of rows) {
    if (r.id === null || r.id === undefined) continue;
    out.push({
      agent: toSummaryRow(r),
      offlineSince: dateFromUs(r.key_us),
      staleCandidate: r.stale === true,
      key: { us: num(r.key_us), id: r.id as string },
    });
  }
  return out;
}

/**
 * Agents by stored status (every status present, 0 when none), from an index-only scan of
 * (status, ...): one pass over the index, no table rows.
 */
export async function countAgentsByStatus(db: DbExecutor): Promise<Record<AgentStatus, number>> {
  const rows = await db.execute<{ status: AgentStatus; n: number }>(
    sql`select a.status, count(*)::int as n from agents a group by a.status`,
  );
  const out = Object.fromEntries(AGENT_STATUSES.map((s) => [s, 0])) as Record<AgentStatus, number>;
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/**
 * Up to `limit` online agents that Postgres saw last before `beforeMs` (see {@link staleOnline}),
 * oldest first. A scan of the online agents (no index covers last_seen_at, see the agents schema).
 */
export async function listStaleOnline(
  db: DbExecutor,
  options: { beforeMs: number; limit: number },
): Promise<StaleOnlineAgent[]> {
  checkMs('beforeMs', options.beforeMs);
  const limit = checkInt('limit', options.limit, 1, 1_000_000);
  const rows = await db.execute<{ id: string; freshest_us: string }>(sql`
    select a.id, ${usOf(FRESHEST)} as freshest_us from agents a
    where ${staleOnline(options.beforeMs)}
    order by a.last_seen_at nulls first, a.id
    limit ${limit}`);
  return rows.map((r) => ({ agentId: r.id, freshestMs: Number(r.freshest_us) / 1000 }));
}

/** How many online agents Postgres saw last before `beforeMs` (same rule as {@link listStaleOnline}). */
export async function countStaleOnline(db: DbExecutor, beforeMs: number): Promise<number> {
  checkMs('beforeMs', beforeMs);
  const rows = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from agents a where ${staleOnline(beforeMs)}`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** Whether an agents row exists for `id` (primary key lookup). */
export async function agentExists(db: DbExecutor, id: string): Promise<boolean> {
  const rows = await executePrepared(db, sql`select 1 from agents where id = ${id}`);
  return rows.length > 0;
}

/** Postgres' clock, ms since the Unix epoch (whole ms). */
export async function databaseNowMs(db: DbExecutor): Promise<number> {
  const rows = await db.execute<{ ms: string }>(
    sql`select floor(extract(epoch from now()) * 1000)::bigint as ms`,
  );
  return Number(rows[0]!.ms);
}
