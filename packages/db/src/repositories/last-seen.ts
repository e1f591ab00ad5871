import { sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';
import { InvalidBatchError } from '../errors.js';
import { col, unnestAs } from './batch.js';

/**
 * Moves agents' last_seen_at forward to the given times (ms since the Unix epoch) in ONE statement;
 * never backwards: last_seen_at = GREATEST(last_seen_at, t), and a row whose value would not change
 * is not written. A repeated id counts with its latest time. Returns the number of rows written
 * (inserted or moved forward), so a replayed flush returns 0.
 *
 * An id without a row (seen by presence before its connection event landed) gets one, with status
 * 'offline': only connection events bring an agent online, so a stale heartbeat can never resurrect
 * an agent. Rows are written in id order, the lock order of the other repositories.
 *
 * Throws {@link InvalidBatchError} when the arrays differ in length or hold a non-string id or a
 * non-finite time.
 */
export async function flushLastSeen(
  db: DbExecutor,
  ids: readonly string[],
  lastSeenMs: readonly number[],
): Promise<number> {
  if (ids.length !== lastSeenMs.length) {
    throw new InvalidBatchError(`ids (${ids.length}) and lastSeenMs (${lastSeenMs.length}) differ in length`);
  }
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id !== 'string' || id.length === 0)
      throw new InvalidBatchError(`ids[${i}] must be a non-empty string`, i);
    if (!Number.isFinite(lastSeenMs[i]))
      throw new InvalidBatchError(`lastSeenMs[${i}] must be a finite number`, i);
  }
  if (ids.length === 0) return 0;
  const rows = await db.execute(sql`
    insert into agents as a (id, status, last_seen_at)
    select v.id, 'offline', to_timestamp(max(v.t) / 1000)
    from ${unnestAs('v', { id: col.text(ids), t: col.float8(lastSeenMs) })}
    group by v.id
    order by v.id
    on conflict (id) do update set last_seen_at = excluded.last_seen_at
    where a.last_seen_at is null or a.last_seen_at < excluded.last_seen_at`);
  return rows.count;
}
