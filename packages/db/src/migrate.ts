import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as drizzleMigrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

/**
 * The repository's drizzle/ folder, resolved relative to this module so it is the same from src/
 * (tests) and dist/ (built code): both sit three levels below the repository root.
 */
export function migrationsFolder(): string {
  return fileURLToPath(new URL('../../../drizzle', import.meta.url));
}

export interface MigrateOptions {
  /** Default {@link migrationsFolder}(). */
  migrationsFolder?: string;
}

export interface MigrateResult {
  /** Migrations applied by this call. */
  applied: number;
  /** Migrations recorded in the database afterwards. */
  total: number;
}

/**
 * Applies the pending forward-only migrations to the database at `url`, in one transaction.
 * Idempotent: a second run applies nothing. Concurrent runs are serialized by a session advisory
 * lock, so two deploy jobs started together do not race. The apps never call this at start-up.
 */
export async function migrate(url: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const folder = options.migrationsFolder ?? migrationsFolder();
  // One connection: the advisory lock, the migrator's queries and its transaction share a session.
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(hashtextextended('opamp-fleet:migrate', 0))`;
    const before = await countApplied(sql);
    await drizzleMigrate(drizzle(sql), { migrationsFolder: folder });
    const total = await countApplied(sql);
    // Ending the session below releases the lock even when this query is never sent.
    await sql`select pg_advisory_unlock(hashtextextended('opamp-fleet:migrate', 0))`;
    return { applied: total - before, total };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function countApplied(sql: postgres.Sql): Promise<number> {
  const [exists] = await sql<
    { t: string | null }[]
  >`select to_regclass('drizzle.__drizzle_migrations')::text as t`;
  if (!exists?.t) return 0;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
  return row?.n ?? 0;
}

interface Output {
  write(chunk: string): unknown;
}

/**
 * `migrate-cli <database-url>`: applies the migrations and prints how many ran. Returns the exit
 * code (0 done, 1 failed, 2 usage). The URL is never printed.
 */
export async function migrateCli(args: readonly string[], out: Output, err: Output): Promise<number> {
  const url = args[0];
  if (args.length !== 1 || !url || url.startsWith('-')) {
    err.write('usage: migrate-cli <database-url>\n');
    return 2;
  }
  try {
    const result = await migrate(url);
    out.write(`migrations: ${result.applied} applied, ${result.total} total\n`);
    return 0;
  } catch (e) {
    err.write(`migration failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    return 1;
  }
}
