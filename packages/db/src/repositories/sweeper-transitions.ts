import { type SQL, sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';
import { checkInt, InvalidBatchError } from '../errors.js';
import type { Transport } from '../schema/agents.js';
import { col, tsFromMs, unnestAs } from './batch.js';

/** An online agent as the sweeper read it, before deciding on it. */
export interface OnlineAgent {
  agentId: string;
  /** agents.connection_epoch when read: a connection recorded later raises it. */
  connectionEpoch: number;
  /** agents.last_seen_at in whole ms, or null. */
  lastSeenMs: number | null;
}

/** An agent the sweeper decided is offline. */
export interface OfflineCandidate {
  agentId: string;
  /**
   * The last-seen time (ms) the decision rests on. The agent is changed only while its last_seen_at
   * is NULL or not after it, so a heartbeat that reached Postgres meanwhile wins. NULL: only an agent
   * whose last_seen_at is NULL is changed.
   */
  lastSeenMs: number | null;
  /**
   * The connection_epoch read before deciding: the agent is changed only while it is unchanged, so
   * a connection opened meanwhile (a reconnect) wins.
   */
  connectionEpoch: number;
}

export interface SweeperWriteOptions {
  /** Recorded as status_reason (and disconnect_reason) and as the transition's reason. */
  reason: string;
  /** When the sweeper decided (ms since the Unix epoch, the sweeper's clock). */
  atMs: number;
  /**
   * A boolean SQL expression evaluated once by the statement, which writes nothing unless it is
   * true: e.g. a lease fence. Default true.
   */
  guard?: SQL;
}

export interface MarkedOffline {
  agentId: string;
  /** The agent's current connection, whose history row was closed when it was open. */
  connectionId: string | null;
  /** Transport of that connection (agents.transport), null when never recorded. */
  transport: Transport | null;
}

export interface OfflineResult {
  /** False when the guard was false: nothing was written. */
  guardHeld: boolean;
  /** Agents this call took from online to offline, in id order. */
  agents: MarkedOffline[];
  /** Connection history rows closed. */
  historyClosed: number;
  /** Status transition rows inserted. */
  transitions: number;
}

export interface ErrorOptions extends SweeperWriteOptions {
  /** Agents offline since this time or earlier (ms, status_changed_at) move to error. */
  beforeMs: number;
  /** Most agents changed by one call, 1..100,000. */
  limit: number;
}

export interface ErrorResult {
  /** False when the guard was false: nothing was written. */
  guardHeld: boolean;
  /** Agents this call took from offline to error, in id order. */
  agentIds: string[];
  transitions: number;
}

export interface StaleOnlineOptions {
  /** Online agents last seen (per Postgres) and online since this time or earlier (ms). */
  beforeMs: number;
  /** 1..100,000. */
  limit: number;
}

const lastSeenMs = sql`round(extract(epoch from a.last_seen_at) * 1000)::float8`;

/** The agents of `agentIds` that are online, in id order (read only, no lock). */
export async function readOnlineAgents(db: DbExecutor, agentIds: readonly string[]): Promise<OnlineAgent[]> {
  agentIds.forEach((id, i) => {
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidBatchError(`agentIds[${i}] must be a non-empty string`, i);
    }
  });
  if (agentIds.length === 0) return [];
  const rows = await db.execute<OnlineRow>(sql`
    select a.id, a.connection_epoch, ${lastSeenMs} as seen_ms from agents a
    where a.id in (select v.id from ${unnestAs('v', { id: col.text([...new Set(agentIds)]) })})
      and a.status = 'online'
    order by a.id`);
  return rows.map(toOnlineAgent);
}

/**
 * Online agents that Postgres last saw at `beforeMs` or earlier (or never), online since then or
 * earlier and last connected then or earlier (a recent reconnect is alive whatever Postgres last
 * saw), oldest first: candidates to check against the last-seen set when presence may have lost
 * them. A scan of the table (no index covers last_seen_at, see the agents schema): run it seldom.
 */
export async function findStaleOnline(db: DbExecutor, options: StaleOnlineOptions): Promise<OnlineAgent[]> {
  checkFinite('beforeMs', options.beforeMs);
  const limit = checkInt('limit', options.limit, 1, 100_000);
  const before = tsFromMs(sql`${options.beforeMs}::float8`);
  const rows = await db.execute<OnlineRow>(sql`
    select a.id, a.connection_epoch, ${lastSeenMs} as seen_ms from agents a
    where a.status = 'online' and (a.last_seen_at is null or a.last_seen_at <= ${before})
      and (a.status_changed_at is null or a.status_changed_at <= ${before})
      and (a.last_connected_at is null or a.last_connected_at <= ${before})
    order by a.last_seen_at nulls first, a.id
    limit ${limit}`);
  return rows.map(toOnlineAgent);
}

export interface SeenWhileOfflineOptions {
  /** Only agents last seen after this time (ms): alive now, not merely seen once after going offline. */
  seenAfterMs: number;
  /** Only agents last seen more than this long (ms) after their status changed: what is still in flight is left alone. */
  graceMs: number;
  /** 1..100,000. */
  limit: number;
}

/**
 * Agents that are offline or in error in Postgres and yet were seen (last_seen_at, flushed from the
 * presence set) after `seenAfterMs` and more than `graceMs` after their status changed: still
 * heartbeating on the connection the sweeper took offline, whose end (close command, session end)
 * was lost. Returns their recorded connection, in id order (read only; a scan of the offline and
 * error agents: no index covers last_seen_at, see the agents schema).
 */
export async function findSeenWhileOffline(
  db: DbExecutor,
  options: SeenWhileOfflineOptions,
): Promise<MarkedOffline[]> {
  checkFinite('seenAfterMs', options.seenAfterMs);
  checkFinite('graceMs', options.graceMs);
  const limit = checkInt('limit', options.limit, 1, 100_000);
  const after = tsFromMs(sql`${options.seenAfterMs}::float8`);
  const grace = sql`make_interval(secs => ${options.graceMs / 1000}::float8)`;
  const rows = await db.execute<{
    id: string;
    connection_id: string | null;
    transport: Transport | null;
  }>(sql`
    select a.id, a.current_connection_id as connection_id, a.transport from agents a
    where a.status in ('offline', 'error') and a.last_seen_at > ${after}
      and a.status_changed_at is not null and a.last_seen_at > a.status_changed_at + ${grace}
    order by a.id
    limit ${limit}`);
  return rows.map((r) => ({ agentId: r.id, connectionId: r.connection_id, transport: r.transport }));
}

/**
 * Compare-and-set online -> offline of `candidates` in ONE statement (so it commits or not as a
 * whole). An agent changes only while it is online, its connection_epoch is the candidate's and its
 * last_seen_at is not after the candidate's (see {@link OfflineCandidate}). For every agent it
 * changed, and only for those:
 * - agents: status 'offline', status_reason / disconnect_reason = reason, status_changed_at and
 *   last_disconnected_at = atMs, last_seen_at moved forward to the candidate's last-seen;
 * - the history row of its current connection, if still open: disconnected_at = atMs,
 *   disconnect_reason = reason, duration_seconds (when connected_at is known);
 * - one transition online -> offline decided by 'sweeper', event_id
 *   `timeout:<agent>:<connection epoch>:<last-seen ms or 'none'>` (ON CONFLICT DO NOTHING).
 * Idempotent: applied again, it changes nothing. A repeated agent id counts with its first
 * candidate. Agents are written in id order, the lock order of the other repositories.
 */
export async function markOffline(
  db: DbExecutor,
  candidates: readonly OfflineCandidate[],
  options: SweeperWriteOptions,
): Promise<OfflineResult> {
  checkOptions(options);
  const unique = dedupe(candidates);
  const at = tsFromMs(sql`${options.atMs}::float8`);
  const seen = tsFromMs(sql`v.seen_ms`);
  const rows = await db.execute<{
    held: boolean;
    id: string | null;
    connection_id: string | null;
    transport: Transport | null;
    history: number;
    transitions: number;
  }>(sql`
    with guard as (select ${options.guard ?? sql`true`} as held),
    v as (
      select * from ${unnestAs('v', {
        agent_id: col.text(unique.map((c) => c.agentId)),
        seen_ms: col.float8(unique.map((c) => c.lastSeenMs)),
        epoch: col.bigint(unique.map((c) => c.connectionEpoch)),
      })}
    ),
    target as (
      select a.id from agents a join v on v.agent_id = a.id
      where (select held from guard)
      order by a.id
      for update of a
    ),
    upd as (
      update agents a set
        status = 'offline',
        status_reason = ${options.reason}::text,
        status_changed_at = ${at},
        last_disconnected_at = ${at},
        disconnect_reason = ${options.reason}::text,
        last_seen_at = greatest(a.last_seen_at, ${seen}),
        updated_at = now()
      from v
      where a.id = v.agent_id and a.id in (select id from target)
        and a.status = 'online' and a.connection_epoch = v.epoch
        and (a.last_seen_at is null or (v.seen_ms is not null and a.last_seen_at <= ${seen}))
      returning a.id, a.current_connection_id, a.connection_epoch, a.transport, v.seen_ms
    ),
    hist as (
      update agent_connection_history h set
        disconnected_at = ${at},
        disconnect_reason = ${options.reason}::text,
        duration_seconds = extract(epoch from ${at} - h.connected_at)::float8
      from upd
      where h.connection_id = upd.current_connection_id and h.disconnected_at is null
      returning 1
    ),
    ins as (
      insert into agent_status_transitions
        (event_id, agent_id, from_status, to_status, reason, at, decided_by, connection_id)
      select 'timeout:' || u.id || ':' || u.connection_epoch || ':'
          || coalesce(round(u.seen_ms)::bigint::text, 'none'),
        u.id, 'online', 'offline', ${options.reason}::text, ${at}, 'sweeper', u.current_connection_id
      from upd u
      order by u.id
      on conflict (event_id) do nothing
      returning 1
    ),
    counts as (
      select (select held from guard) as held,
        (select count(*) from hist)::int as history, (select count(*) from ins)::int as transitions
    )
    select c.held, u.id, u.current_connection_id as connection_id, u.transport, c.history, c.transitions
    from counts c left join upd u on true
    order by u.id`);
  const first = rows[0]!;
  return {
    guardHeld: first.held,
    agents: rows
      .filter((r) => r.id !== null)
      .map((r) => ({ agentId: r.id!, connectionId: r.connection_id, transport: r.transport })),
    historyClosed: first.history,
    transitions: first.transitions,
  };
}

/**
 * Moves up to `limit` agents offline since `beforeMs` or earlier (oldest first) to 'error' in ONE
 * statement, with one transition offline -> error decided by 'sweeper' each (event_id
 * `error:<agent>:<connection epoch>:<offline since, ms>`). Agents never recorded as changing status
 * (status_changed_at NULL) are left alone. Rows locked by another transaction are skipped (taken by
 * a later call), so this never waits on a connection event batch.
 */
export async function markError(db: DbExecutor, options: ErrorOptions): Promise<ErrorResult> {
  checkOptions(options);
  checkFinite('beforeMs', options.beforeMs);
  const limit = checkInt('limit', options.limit, 1, 100_000);
  const at = tsFromMs(sql`${options.atMs}::float8`);
  const before = tsFromMs(sql`${options.beforeMs}::float8`);
  const rows = await db.execute<{ held: boolean; id: string | null; transitions: number }>(sql`
    with guard as (select ${options.guard ?? sql`true`} as held),
    l as (
      select a.id, a.status_changed_at as since from agents a
      where (select held from guard) and a.status = 'offline' and a.status_changed_at <= ${before}
      order by a.status_changed_at, a.id
      limit ${limit}
      for update skip locked
    ),
    upd as (
      update agents a set
        status = 'error',
        status_reason = ${options.reason}::text,
        status_changed_at = ${at},
        updated_at = now()
      from l
      where a.id = l.id and a.status = 'offline' and a.status_changed_at = l.since
      returning a.id, a.connection_epoch, a.current_connection_id, l.since
    ),
    ins as (
      insert into agent_status_transitions
        (event_id, agent_id, from_status, to_status, reason, at, decided_by, connection_id)
      select 'error:' || u.id || ':' || u.connection_epoch || ':'
          || round(extract(epoch from u.since) * 1000)::bigint::text,
        u.id, 'offline', 'error', ${options.reason}::text, ${at}, 'sweeper', u.current_connection_id
      from upd u
      order by u.id
      on conflict (event_id) do nothing
      returning 1
    ),
    counts as (select (select held from guard) as held, (select count(*) from ins)::int as transitions)
    select c.held, u.id, c.transitions
    from counts c left join upd u on true
    order by u.id`);
  const first = rows[0]!;
  return {
    guardHeld: first.held,
    agentIds: rows.filter((r) => r.id !== null).map((r) => r.id!),
    transitions: first.transitions,
  };
}

type OnlineRow = {
  id: string;
  connection_epoch: string | number;
  seen_ms: string | number | null;
};

function toOnlineAgent(r: OnlineRow): OnlineAgent {
  return {
    agentId: r.id,
    connectionEpoch: Number(r.connection_epoch),
    lastSeenMs: r.seen_ms === null ? null : Number(r.seen_ms),
  };
}

function dedupe(candidates: readonly OfflineCandidate[]): OfflineCandidate[] {
  const seen = new Set<string>();
  const out: OfflineCandidate[] = [];
  candidates.forEach((c, i) => {
    if (typeof c.agentId !== 'string' || c.agentId.length === 0) {
      throw new InvalidBatchError(`candidates[${i}].agentId must be a non-empty string`, i);
    }
    if (c.lastSeenMs !== null && !Number.isFinite(c.lastSeenMs)) {
      throw new InvalidBatchError(`candidates[${i}].lastSeenMs must be a finite number or null`, i);
    }
    if (!Number.isSafeInteger(c.connectionEpoch) || c.connectionEpoch < 0) {
      throw new InvalidBatchError(`candidates[${i}].connectionEpoch must be a safe integer >= 0`, i);
    }
    if (seen.has(c.agentId)) return;
    seen.add(c.agentId);
    out.push(c);
  });
  return out;
}

function checkOptions(o: SweeperWriteOptions): void {
  if (typeof o.reason !== 'string' || o.reason.length === 0) {
    throw new InvalidBatchError('reason must be a non-empty string');
  }
  checkFinite('atMs', o.atMs);
}

function checkFinite(name: string, value: number): void {
  if (!Number.isFinite(value)) throw new InvalidBatchError(`${name} must be a finite number`);
}
