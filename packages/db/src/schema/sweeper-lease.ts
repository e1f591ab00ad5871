import { bigint, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Leases of leader-elected loops, one row per lease name. `token` grows by one each time another
 * holder takes the lease over: a write fenced by (name, holder, token, expires_at > now()) in the
 * same transaction cannot commit once the lease has moved on. Time is Postgres's own clock.
 */
export const sweeperLease = pgTable('sweeper_lease', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  token: bigint('token', { mode: 'number' }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

export type SweeperLeaseRow = typeof sweeperLease.$inferSelect;
