import { sql } from 'drizzle-orm';
import { bigserial, check, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { type AgentStatus, agents } from './agents.js';

/** Who decided a status transition. */
export type DecidedBy = 'gateway' | 'sweeper' | 'api' | 'worker';

/**
 * Append-only log of status transitions. `event_id` is the idempotency key of the decision that
 * wrote the row (e.g. `open:<connection id>`), so a replayed decision inserts nothing.
 */
export const agentStatusTransitions = pgTable(
  'agent_status_transitions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventId: text('event_id').notNull().unique('agent_status_transitions_event_id_key'),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    /** NULL for the agent's first recorded transition. */
    fromStatus: text('from_status').$type<AgentStatus>(),
    toStatus: text('to_status').$type<AgentStatus>().notNull(),
    reason: text('reason'),
    at: timestamp('at', { withTimezone: true }).notNull(),
    decidedBy: text('decided_by').$type<DecidedBy>().notNull(),
    connectionId: text('connection_id'),
  },
  (t) => [
    check('agent_status_transitions_from_check', sql`${t.fromStatus} in ('online', 'offline', 'error')`),
    check('agent_status_transitions_to_check', sql`${t.toStatus} in ('online', 'offline', 'error')`),
    check(
      'agent_status_transitions_decided_by_check',
      sql`${t.decidedBy} in ('gateway', 'sweeper', 'api', 'worker')`,
    ),
    index('agent_status_transitions_agent_at_idx').on(t.agentId, t.at.desc(), t.id.desc()),
    index('agent_status_transitions_at_idx').on(t.at),
  ],
);

export type StatusTransitionRow = typeof agentStatusTransitions.$inferSelect;
