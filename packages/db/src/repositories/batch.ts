import { type SQL, sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';

type PgArrayType = 'text' | 'bigint' | 'float8' | 'jsonb';

/** One column of an {@link unnestAs} relation: the values and their Postgres element type. */
export interface UnnestColumn {
  values: readonly unknown[];
  type: PgArrayType;
}

/** Column constructors for {@link unnestAs}. Timestamps travel as float8 ms (see {@link tsFromMs}). */
export const col = {
  text: (values: readonly (string | null)[]): UnnestColumn => ({ values, type: 'text' }),
  bigint: (values: readonly (number | null)[]): UnnestColumn => ({ values, type: 'bigint' }),
  float8: (values: readonly (number | null)[]): UnnestColumn => ({ values, type: 'float8' }),
  /** Values are JSON texts (or null). */
  jsonb: (values: readonly (string | null)[]): UnnestColumn => ({ values, type: 'jsonb' }),
};

/**
 * `unnest($1::t1[], $2::t2[], ...) as alias(name1, name2, ...)`: a batch as a relation, one array
 * parameter per column (a bare JS array in drizzle's `sql` would expand to one parameter per element;
 * `sql.param` sends it as a single Postgres array). Names and alias are code constants, never input.
 * timestamptz[] cannot be sent (drizzle installs a pass-through serializer for it), hence float8 ms.
 */
export function unnestAs(alias: string, columns: Record<string, UnnestColumn>): SQL {
  const names = Object.keys(columns);
  const arrays = names.map((n) => {
    const c = columns[n]!;
    return sql`${sql.param(c.values)}::${sql.raw(c.type)}[]`;
  });
  return sql`unnest(${sql.join(arrays, sql`, `)}) as ${sql.raw(alias)}(${sql.raw(names.join(', '))})`;
}

/** SQL converting a float8 ms-since-epoch expression to timestamptz (exact to the microsecond). */
export function tsFromMs(expr: SQL): SQL {
  return sql`to_timestamp(${expr} / 1000)`;
}

/**
 * Splits a batch into rounds with at most one item per key, so that every round can be applied with
 * one set-based statement and the rounds in order give the same result as applying the items one by
 * one in `compare` order. Round k holds the k-th item of every key. Of the items of one key with the
 * same `dedupeKey`, only the first in `compare` order is kept.
 */
export function splitIntoRounds<T>(
  items: readonly T[],
  key: (item: T) => string,
  compare: (a: T, b: T) => number,
  dedupeKey: (item: T) => string,
): T[][] {
  const byKey = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = byKey.get(k);
    if (list) list.push(item);
    else byKey.set(k, [item]);
  }
  const rounds: T[][] = [];
  for (const k of [...byKey.keys()].sort()) {
    const list = byKey.get(k)!.sort(compare);
    const seen = new Set<string>();
    const kept: T[] = [];
    for (const item of list) {
      const d = dedupeKey(item);
      if (seen.has(d)) continue;
      seen.add(d);
      kept.push(item);
    }
    kept.forEach((item, i) => {
      if (!rounds[i]) rounds[i] = [];
      rounds[i].push(item);
    });
  }
  return rounds;
}

/** Three-way comparison of primitives for sort callbacks. */
export function cmp(a: string | number | null | undefined, b: string | number | null | undefined): number {
  if (a === b) return 0;
  if (a == null) return -1;
  if (b == null) return 1;
  return a < b ? -1 : 1;
}

/**
 * `cross join lateral (...) <alias>`: for each row of the relation `v` before it, the agent row of
 * `v.agent_id` by primary key, as `<alias>.row_ctid` (its row version) and `columns` (SQL over the
 * row `p` and `v`). An update joins its target to it by ctid (`where a.ctid = <alias>.row_ctid`).
 *
 * Plan: one primary-key lookup per event and a TID scan of that very row version, a nested loop
 * whatever the table's size. The LATERAL subquery with LIMIT 1 cannot be flattened into a join;
 * joined by id, the planner hashed the whole agents table for every batch while the table was small
 * enough for its costs to favour that (10,000 agents: ~8 ms of a 30 ms statement of 500 closes).
 *
 * Only for rows locked by an earlier statement of the transaction ({@link createAndLockAgents}):
 * that statement's snapshot then sees the version locked, and nobody else can write a newer one.
 * Within a single statement that takes its locks itself, a row updated concurrently would have a
 * newer version outside the snapshot, and a join by ctid would skip it.
 */
export function lockedAgentRow(alias: string, columns?: SQL): SQL {
  const more = columns === undefined ? sql`` : sql`, ${columns}`;
  return sql`cross join lateral (
        select p.ctid as row_ctid${more}
        from agents p where p.id = v.agent_id limit 1
      ) ${sql.raw(alias)}`;
}

/**
 * Creates the missing agents (status 'offline', nothing else known) and locks every agent of
 * `ids` for the rest of the transaction, in id order. Taking all row locks up front and in one order
 * keeps concurrent batches that share agents from deadlocking. `ON CONFLICT DO UPDATE ... WHERE
 * false` locks an existing row without writing it. Returns the number of agents created.
 */
export async function createAndLockAgents(tx: DbExecutor, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const unique = [...new Set(ids)];
  const rows = await tx.execute(sql`
    insert into agents as a (id, status)
    select v.id, 'offline' from ${unnestAs('v', { id: col.text(unique) })} order by v.id
    on conflict (id) do update set status = a.status where false`);
  return rows.count;
}
