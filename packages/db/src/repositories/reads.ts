import { eq, sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';
import { checkInt } from '../errors.js';
import { agentConnectionHistory, type ConnectionHistoryRow } from '../schema/agent-connection-history.js';
import { agentStatusTransitions, type StatusTransitionRow } from '../schema/agent-status-transitions.js';
import { type AgentRow, agents } from '../schema/agents.js';
import type { AgentStatusRow } from './api-rows.js';

export interface ListOptions {
  /** Rows to return, 1..1000. Default 100. */
  limit?: number;
}

/**
 * A lookup of one agent row by id through a statement built once per database handle (`build`) and
 * run as a prepared statement: one Bind/Execute round trip, no query building per call.
 */
function byIdLookup<Row>(
  build: (db: DbExecutor) => { execute(values: { id: string }): Promise<Row[]> },
): (db: DbExecutor, id: string) => Promise<Row | null> {
  const statements = new WeakMap<DbExecutor, ReturnType<typeof build>>();
  return async (db, id) => {
    let statement = statements.get(db);
    if (statement === undefined) {
      statement = build(db);
      statements.set(db, statement);
    }
    const rows = await statement.execute({ id });
    return rows[0] ?? null;
  };
}

const byId = eq(agents.id, sql.placeholder('id'));

/** The agent's row, or null when unknown. */
export const getAgent: (db: DbExecutor, id: string) => Promise<AgentRow | null> = byIdLookup((db) =>
  db.select().from(agents).where(byId).limit(1).prepare('get_agent'),
);

/**
 * The agent's stored status and connection timeline, or null when unknown: {@link getAgent}
 * without the JSON columns (description, health) and bookkeeping, which a status read does not
 * show and which would cost the client a parse on every read.
 */
export const getAgentStatus: (db: DbExecutor, id: string) => Promise<AgentStatusRow | null> = byIdLookup(
  (db) =>
    db
      .select({
        id: agents.id,
        status: agents.status,
        statusReason: agents.statusReason,
        statusChangedAt: agents.statusChangedAt,
        lastSeenAt: agents.lastSeenAt,
        lastConnectedAt: agents.lastConnectedAt,
        lastDisconnectedAt: agents.lastDisconnectedAt,
        disconnectReason: agents.disconnectReason,
        transport: agents.transport,
      })
      .from(agents)
      .where(byId)
      .limit(1)
      .prepare('get_agent_status'),
);

/**
 * The agent's connections, newest first (connected_at descending; connections whose open has not
 * landed yet last), served by the (agent_id, connected_at desc) index.
 */
export async function listHistory(
  db: DbExecutor,
  agentId: string,
  options: ListOptions = {},
): Promise<ConnectionHistoryRow[]> {
  const limit = checkInt('limit', options.limit ?? 100, 1, 1000);
  return db
    .select()
    .from(agentConnectionHistory)
    .where(eq(agentConnectionHistory.agentId, agentId))
    .orderBy(
      sql`${agentConnectionHistory.connectedAt} desc nulls last`,
      sql`${agentConnectionHistory.connectionEpoch} desc`,
    )
    .limit(limit);
}

/** The agent's status transitions, newest first (at, then id, descending). */
export async function listTransitions(
  db: DbExecutor,
  agentId: string,
  options: ListOptions = {},
): Promise<StatusTransitionRow[]> {
  const limit = checkInt('limit', options.limit ?? 100, 1, 1000);
  return db
    .select()
    .from(agentStatusTransitions)
    .where(eq(agentStatusTransitions.agentId, agentId))
    .orderBy(
      sql`${agentStatusTransitions.at} desc nulls last`,
      sql`${agentStatusTransitions.id} desc nulls last`,
    )
    .limit(limit);
}
