import { sql } from 'drizzle-orm';
import { bigint, check, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Liveness status of an agent. */
export type AgentStatus = 'online' | 'offline' | 'error';
export const AGENT_STATUSES = ['online', 'offline', 'error'] as const satisfies readonly AgentStatus[];

/** Transport of a connection. */
export type Transport = 'ws' | 'http';

/** A JSON value (jsonb columns; OpAMP AnyValue attributes flattened to JSON). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** The agent's self-description: identifying and non-identifying attributes by key. */
export interface AgentDescription {
  identifying: Record<string, JsonValue>;
  nonIdentifying: Record<string, JsonValue>;
}

const tz = { withTimezone: true } as const;

/**
 * One row per agent (canonical instance uid). Connection columns are owned by connection events,
 * description/capabilities/health/config hash by state events (ordered by (state_epoch, state_seq)),
 * last_seen_at by the heartbeat flush (monotonic, never moves backwards).
 */
export const agents = pgTable(
  'agents',
  {
    id: text('id').primaryKey(),
    status: text('status').$type<AgentStatus>().notNull(),
    statusReason: text('status_reason'),
    /** NULL until the first recorded transition. */
    statusChangedAt: timestamp('status_changed_at', tz),
    lastSeenAt: timestamp('last_seen_at', tz),
    lastConnectedAt: timestamp('last_connected_at', tz),
    lastDisconnectedAt: timestamp('last_disconnected_at', tz),
    disconnectReason: text('disconnect_reason'),
    currentConnectionId: text('current_connection_id'),
    /** Highest connection epoch seen in any open or close event of this agent. */
    connectionEpoch: bigint('connection_epoch', { mode: 'number' }).notNull().default(0),
    transport: text('transport').$type<Transport>(),
    description: jsonb('description').$type<AgentDescription>(),
    capabilities: bigint('capabilities', { mode: 'number' }),
    health: jsonb('health').$type<JsonValue>(),
    effectiveConfigHash: text('effective_config_hash'),
    lastSequenceNum: bigint('last_sequence_num', { mode: 'number' }),
    stateEpoch: bigint('state_epoch', { mode: 'number' }),
    stateSeq: bigint('state_seq', { mode: 'number' }),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [
    check('agents_status_check', sql`${t.status} in ('online', 'offline', 'error')`),
    check('agents_transport_check', sql`${t.transport} in ('ws', 'http')`),
    // No index may cover last_seen_at: the heartbeat flush moves it for every live agent, and only
    // a row whose indexed columns keep their values is updated in place (HOT, no index entries;
    // the table's fillfactor leaves room for it). Stale agents are found in the Redis last-seen set.
    index('agents_status_changed_idx').on(t.status, t.statusChangedAt.desc(), t.id),
    index('agents_description_gin_idx').using('gin', t.description.op('jsonb_path_ops')),
  ],
);

export type AgentRow = typeof agents.$inferSelect;
