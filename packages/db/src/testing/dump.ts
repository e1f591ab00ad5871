import { sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';

export interface DumpOptions {
  /**
   * Also return created_at, updated_at and each row's version (xmin): two dumps then match only
   * if no row was rewritten in between. Default false (comparable across databases).
   */
  physical?: boolean;
}

/** Every row of the three tables, as text, in a stable order: for comparing database contents. */
export interface TableDump {
  agents: Record<string, string | null>[];
  history: Record<string, string | null>[];
  transitions: Record<string, string | null>[];
}

/** Dumps the tables of this package (see {@link TableDump}); for tests of code that writes them. */
export async function dumpTables(db: DbExecutor, options: DumpOptions = {}): Promise<TableDump> {
  const physical = options.physical ?? false;
  const dump = async (table: string, order: string, volatile: string[]) => {
    const rows = await db.execute<{ r: Record<string, string | null> }>(
      sql.raw(`select to_jsonb(t) ${physical ? `|| jsonb_build_object('xmin', t.xmin::text)` : ''} as r
        from ${table} t order by ${order}`),
    );
    return rows.map(({ r }) => {
      const out: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(r)) {
        if (!physical && volatile.includes(k)) continue;
        out[k] = v == null ? null : typeof v === 'string' ? v : JSON.stringify(v);
      }
      return out;
    });
  };
  return {
    agents: await dump('agents', 'id', ['created_at', 'updated_at']),
    history: await dump('agent_connection_history', 'connection_id', []),
    transitions: await dump('agent_status_transitions', 'id', []),
  };
}

/** Empties the tables of this package and restarts their sequences: a fresh start within one database. */
export async function truncateTables(db: DbExecutor): Promise<void> {
  await db.execute(
    sql`truncate agent_status_transitions, agent_connection_history, agents restart identity cascade`,
  );
}
