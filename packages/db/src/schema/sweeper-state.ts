import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * What the sweeper last acted under, one row per lease name: the Redis data epoch and server run_id.
 * A new leader that finds other values knows presence data may have been lost or gone stale while no
 * sweeper watched, and holds offline transitions for a grace window.
 */
export const sweeperState = pgTable('sweeper_state', {
  name: text('name').primaryKey(),
  redisEpoch: text('redis_epoch').notNull(),
  redisRunId: text('redis_run_id').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type SweeperStateRow = typeof sweeperState.$inferSelect;
