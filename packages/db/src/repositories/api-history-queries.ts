import { type SQL, sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';
import { DbOptionError } from '../errors.js';
import type { DecidedBy } from '../schema/agent-status-transitions.js';
import type { AgentStatus, Transport } from '../schema/agents.js';
import { checkKey, checkLimit, dateFromUs, num, type TimeKey, tsFromUs, usOf } from './api-rows.js';

/** One connection of an agent, as the read API lists it. */
export interface HistoryPageRow {
  connectionId: string;
  connectionEpoch: number;
  gatewayId: string;
  transport: Transport | null;
  remoteAddress: string | null;
  connectedAt: Date | null;
  disconnectedAt: Date | null;
  durationSeconds: number | null;
  disconnectReason: string | null;
  /** Position of this row: (connected_at in µs or null, connection id). */
  key: TimeKey;
}

/** One status transition of an agent, as the read API lists it. */
export interface TransitionPageRow {
  id: number;
  fromStatus: AgentStatus | null;
  toStatus: AgentStatus;
  reason: string | null;
  at: Date;
  decidedBy: DecidedBy;
  connectionId: string | null;
  /** Position of this row: (at in µs, id). */
  key: TimeKey<number>;
}

export interface HistoryPageOptions {
  /** 1..10000. */
  limit: number;
  /** Rows strictly after this position, or from the start. */
  after?: TimeKey | null;
}

export interface TransitionsPageOptions {
  /** 1..10000. */
  limit: number;
  after?: TimeKey<number> | null;
}

/**
 * The statement behind {@link pageConnectionHistory}: connections with a known connected_at, newest
 * first (connected_at desc, connection_id desc) from the (agent_id, connected_at desc) index, then
 * those whose open has not landed (connected_at NULL) by connection_id desc. Each branch reads at
 * most `limit` rows from the index.
 */
export function historyPageQuery(agentId: string, options: HistoryPageOptions): SQL {
  const limit = checkLimit(options.limit);
  const after = options.after ?? null;
  if (after) checkKey('after', after, 'string');
  const cols = sql`h.connection_id, h.connection_epoch, h.gateway_id, h.transport, h.remote_address,
    ${usOf(sql`h.connected_at`)} as connected_us, ${usOf(sql`h.disconnected_at`)} as disconnected_us,
    h.duration_seconds, h.disconnect_reason`;
  const known =
    after?.us === null
      ? null
      : sql`(select ${cols}, 0 as part from agent_connection_history h
          where h.agent_id = ${agentId} and h.connected_at is not null
          ${after ? sql`and h.connected_at <= ${tsFromUs(after.us!)} and (h.connected_at < ${tsFromUs(after.us!)} or h.connection_id < ${after.id})` : sql``}
          order by h.connected_at desc nulls last, h.connection_id desc
          limit ${limit})`;
  const unknown = sql`(select ${cols}, 1 as part from agent_connection_history h
      where h.agent_id = ${agentId} and h.connected_at is null
      ${after?.us === null ? sql`and h.connection_id < ${after.id}` : sql``}
      order by h.connection_id desc
      limit ${limit})`;
  const branches = known ? sql`${known} union all ${unknown}` : unknown;
  return sql`select * from (${branches}) p
    order by p.part, p.connected_us desc, p.connection_id desc
    limit ${limit}`;
}

/**
 * One page of an agent's connections, newest first; connections whose open has not landed yet come
 * last. Pass the `key` of the last row as `after` for the next page: keyset pagination never skips
 * or repeats a row that existed on both calls.
 */
export async function pageConnectionHistory(
  db: DbExecutor,
  agentId: string,
  options: HistoryPageOptions,
): Promise<HistoryPageRow[]> {
  const rows = await db.execute<Record<string, unknown>>(historyPageQuery(agentId, options));
  return rows.map((r) => ({
    connectionId: r.connection_id as string,
    connectionEpoch: num(r.connection_epoch)!,
    gatewayId: r.gateway_id as string,
    transport: (r.transport as Transport | null) ?? null,
    remoteAddress: (r.remote_address as string | null) ?? null,
    connectedAt: dateFromUs(r.connected_us),
    disconnectedAt: dateFromUs(r.disconnected_us),
    durationSeconds: num(r.duration_seconds),
    disconnectReason: (r.disconnect_reason as string | null) ?? null,
    key: { us: num(r.connected_us), id: r.connection_id as string },
  }));
}

/**
 * The statement behind {@link pageTransitions}: newest first (at desc, id desc), served by the
 * (agent_id, at desc, id desc) index.
 */
export function transitionsPageQuery(agentId: string, options: TransitionsPageOptions): SQL {
  const limit = checkLimit(options.limit);
  const after = options.after ?? null;
  if (after) {
    checkKey('after', after, 'number');
    if (after.us === null)
      throw new DbOptionError('after.us must be a number: transition times are never NULL');
  }
  const at = after ? tsFromUs(after.us!) : null;
  return sql`select t.id, t.from_status, t.to_status, t.reason, ${usOf(sql`t.at`)} as at_us,
      t.decided_by, t.connection_id
    from agent_status_transitions t
    where t.agent_id = ${agentId}
    ${after ? sql`and t.at <= ${at} and (t.at < ${at} or t.id < ${after.id})` : sql``}
    order by t.at desc nulls last, t.id desc nulls last
    limit ${limit}`;
}

/** One page of an agent's status transitions, newest first (see {@link pageConnectionHistory}). */
export async function pageTransitions(
  db: DbExecutor,
  agentId: string,
  options: TransitionsPageOptions,
): Promise<TransitionPageRow[]> {
  const rows = await db.execute<Record<string, unknown>>(transitionsPageQuery(agentId, options));
  return rows.map((r) => ({
    id: num(r.id)!,
    fromStatus: (r.from_status as AgentStatus | null) ?? null,
    toStatus: r.to_status as AgentStatus,
    reason: (r.reason as string | null) ?? null,
    at: dateFromUs(r.at_us)!,
    decidedBy: r.decided_by as DecidedBy,
    connectionId: (r.connection_id as string | null) ?? null,
    key: { us: num(r.at_us), id: num(r.id)! },
  }));
}
