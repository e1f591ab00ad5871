import { sql } from 'drizzle-orm';
import { bigint, check, doublePrecision, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { agents, type Transport } from './agents.js';

const tz = { withTimezone: true } as const;

/**
 * One row per connection. Either end may arrive first: connected_at is NULL until the open is
 * applied, disconnected_at until the close is; duration_seconds is set once both are known.
 */
export const agentConnectionHistory = pgTable(
  'agent_connection_history',
  {
    connectionId: text('connection_id').primaryKey(),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    connectionEpoch: bigint('connection_epoch', { mode: 'number' }).notNull(),
    gatewayId: text('gateway_id').notNull(),
    transport: text('transport').$type<Transport>(),
    remoteAddress: text('remote_address'),
    connectedAt: timestamp('connected_at', tz),
    disconnectedAt: timestamp('disconnected_at', tz),
    durationSeconds: doublePrecision('duration_seconds'),
    disconnectReason: text('disconnect_reason'),
  },
  (t) => [
    check('agent_connection_history_transport_check', sql`${t.transport} in ('ws', 'http')`),
    index('agent_connection_history_agent_connected_idx').on(t.agentId, t.connectedAt.desc()),
    index('agent_connection_history_connected_idx').on(t.connectedAt),
  ],
);

export type ConnectionHistoryRow = typeof agentConnectionHistory.$inferSelect;
