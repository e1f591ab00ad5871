import { sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';
import type { ConnectionClosed, ConnectionOpened } from '../events.js';
import { col, lockedAgentRow, tsFromMs, unnestAs } from './batch.js';

export interface StepResult {
  /** Agent rows written. */
  updated: number;
  /** Transition rows inserted. */
  transitions: number;
}

const NONE: StepResult = { updated: 0, transitions: 0 };
const at = tsFromMs(sql`v.at_ms`);

/**
 * Applies opens, at most one per agent, to locked agent rows, and logs their transitions, in one
 * statement. See applyConnectionEvents for the rules. `prev` holds the values before the update
 * (RETURNING only sees the new ones), looked up by key (see lockedAgentRow); the rows are locked by
 * this transaction, so it is current.
 */
export async function applyOpens(tx: DbExecutor, opens: readonly ConnectionOpened[]): Promise<StepResult> {
  if (opens.length === 0) return NONE;
  const rows = await tx.execute<{ updated: number; transitions: number }>(sql`
    with v as (
      select * from ${unnestAs('v', {
        agent_id: col.text(opens.map((e) => e.agentId)),
        connection_id: col.text(opens.map((e) => e.connectionId)),
        epoch: col.bigint(opens.map((e) => e.connectionEpoch)),
        transport: col.text(opens.map((e) => e.transport)),
        at_ms: col.float8(opens.map((e) => e.at)),
      })}
    ),
    upd as (
      update agents a set
        current_connection_id = v.connection_id,
        connection_epoch = greatest(a.connection_epoch, v.epoch),
        last_connected_at = ${at},
        transport = v.transport,
        status = case when prev.newer then 'online' else a.status end,
        status_reason = case when prev.newer and a.status <> 'online' then 'connected' else a.status_reason end,
        status_changed_at = case when prev.newer and a.status <> 'online' then ${at} else a.status_changed_at end,
        updated_at = now()
      from v ${lockedAgentRow('prev', sql`p.status, p.status_changed_at, v.epoch > p.connection_epoch as newer`)}
      where a.ctid = prev.row_ctid
        and (prev.newer
          or (a.current_connection_id = v.connection_id
            and (a.last_connected_at is distinct from ${at} or a.transport is distinct from v.transport)))
      returning a.id, v.connection_id, v.at_ms, prev.newer, prev.status as from_status,
        prev.status_changed_at is null as first_transition
    ),
    ins as (
      insert into agent_status_transitions
        (event_id, agent_id, from_status, to_status, reason, at, decided_by, connection_id)
      select 'open:' || v.connection_id, v.id, case when v.first_transition then null else v.from_status end,
        'online', 'connected', ${at}, 'gateway', v.connection_id
      from upd as v
      where v.newer and v.from_status <> 'online'
      order by v.id
      on conflict (event_id) do nothing
      returning 1
    )
    select (select count(*) from upd)::int as updated, (select count(*) from ins)::int as transitions`);
  return rows[0]!;
}

/**
 * Applies closes, at most one per agent, to locked agent rows, and logs their transitions, in one
 * statement. A close is for the agent's newest connection when it is the current one or when its
 * epoch is above every epoch seen (the current connection was superseded by it).
 *
 * A close of the current connection of an agent already offline with a recorded disconnect of
 * the same reason changes nothing on the agent: it is the gateway carrying out a disconnect that is
 * recorded already (typically the sweeper's heartbeat_timeout, decided and recorded before the
 * gateway closed the socket), and rewriting the row would only repeat it with a later time.
 *
 * An agent in 'error' that got there from 'offline' (its current error transition came from
 * offline) has no live connection: error is left only by a reconnect. A late close of its current
 * connection (e.g. the gateway closing the socket of an agent the sweeper timed out) records the
 * disconnect but keeps the status, with no transition. A close above every epoch seen still ends the
 * agent's newer connection and takes it offline.
 */
export async function applyCloses(tx: DbExecutor, closes: readonly ConnectionClosed[]): Promise<StepResult> {
  if (closes.length === 0) return NONE;
  const rows = await tx.execute<{ updated: number; transitions: number }>(sql`
    with v as (
      select * from ${unnestAs('v', {
        agent_id: col.text(closes.map((e) => e.agentId)),
        connection_id: col.text(closes.map((e) => e.connectionId)),
        epoch: col.bigint(closes.map((e) => e.connectionEpoch)),
        reason: col.text(closes.map((e) => e.reason)),
        at_ms: col.float8(closes.map((e) => e.at)),
      })}
    ),
    upd as (
      update agents a set
        current_connection_id = v.connection_id,
        connection_epoch = greatest(a.connection_epoch, v.epoch),
        status = case when prev.kept then a.status else 'offline' end,
        status_reason = case when a.status <> 'offline' and not prev.kept then v.reason else a.status_reason end,
        status_changed_at = case when a.status <> 'offline' and not prev.kept then ${at} else a.status_changed_at end,
        last_disconnected_at = ${at},
        disconnect_reason = v.reason,
        updated_at = now()
      from v ${lockedAgentRow(
        'prev',
        sql`p.status, p.status_changed_at,
          (p.current_connection_id = v.connection_id or v.epoch > p.connection_epoch) as newest,
          (p.status = 'error' and v.epoch <= p.connection_epoch and exists (
            select 1 from agent_status_transitions t
            where t.agent_id = p.id and t.to_status = 'error' and t.from_status = 'offline'
              and t.at = p.status_changed_at)) as kept`,
      )}
      where a.ctid = prev.row_ctid and prev.newest
        and (v.epoch > a.connection_epoch or (a.status <> 'offline' and not prev.kept)
          or ((a.last_disconnected_at is distinct from ${at} or a.disconnect_reason is distinct from v.reason)
            and not (a.status = 'offline' and a.last_disconnected_at is not null
              and a.disconnect_reason = v.reason)))
      returning a.id, v.connection_id, v.reason, v.at_ms, prev.status as from_status, prev.kept,
        prev.status_changed_at is null as first_transition
    ),
    ins as (
      insert into agent_status_transitions
        (event_id, agent_id, from_status, to_status, reason, at, decided_by, connection_id)
      select 'close:' || v.connection_id, v.id, case when v.first_transition then null else v.from_status end,
        'offline', v.reason, ${at}, 'gateway', v.connection_id
      from upd as v
      where v.from_status <> 'offline' and not v.kept
      order by v.id
      on conflict (event_id) do nothing
      returning 1
    )
    select (select count(*) from upd)::int as updated, (select count(*) from ins)::int as transitions`);
  return rows[0]!;
}
