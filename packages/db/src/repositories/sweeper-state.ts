import { eq, sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';
import { sweeperState } from '../schema/sweeper-state.js';

/** The Redis the sweeper last acted under: its data epoch and server run_id. */
export interface PresenceBaseline {
  redisEpoch: string;
  redisRunId: string;
}

/** The baseline stored under `name`, or null when none was ever stored. */
export async function readPresenceBaseline(db: DbExecutor, name: string): Promise<PresenceBaseline | null> {
  const rows = await db
    .select({ redisEpoch: sweeperState.redisEpoch, redisRunId: sweeperState.redisRunId })
    .from(sweeperState)
    .where(eq(sweeperState.name, name))
    .limit(1);
  return rows[0] ?? null;
}

/** Stores the baseline under `name` (insert or overwrite); a write of the stored values changes nothing. */
export async function writePresenceBaseline(
  db: DbExecutor,
  name: string,
  baseline: PresenceBaseline,
): Promise<void> {
  await db
    .insert(sweeperState)
    .values({ name, redisEpoch: baseline.redisEpoch, redisRunId: baseline.redisRunId })
    .onConflictDoUpdate({
      target: sweeperState.name,
      set: { redisEpoch: baseline.redisEpoch, redisRunId: baseline.redisRunId, updatedAt: sql`now()` },
      setWhere: sql`${sweeperState.redisEpoch} <> ${baseline.redisEpoch} or ${sweeperState.redisRunId} <> ${baseline.redisRunId}`,
    });
}
