import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { checkInt, DbOptionError } from './errors.js';
import * as schema from './schema/index.js';

/** The drizzle database every repository function takes. */
export type Db = PostgresJsDatabase<typeof schema>;

/** A transaction handle of {@link Db}; it has the same query API. */
export type DbTransaction = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Where a statement can run: the database itself or an open transaction. */
export type DbExecutor = Db | DbTransaction;

export interface DbOptions {
  /** Pool size. Default 10. */
  max?: number;
  /** Reported as application_name in pg_stat_activity. Default 'opamp-fleet'. */
  applicationName?: string;
  /** Close pooled connections idle for this long; 0 keeps them. Default 0. */
  idleTimeoutSeconds?: number;
  /** Give up connecting after this long. Default 30. */
  connectTimeoutSeconds?: number;
}

export interface DbHandle {
  db: Db;
  /**
   * The underlying postgres.js pool. drizzle installs pass-through parsers on it, so raw queries
   * return timestamps as strings; int8 values come back as strings as well.
   */
  sql: postgres.Sql;
  /** Ends the pool, waiting up to 5 s for running queries. Idempotent: later calls share the first. */
  close(): Promise<void>;
}

/**
 * Opens a pool to `url`. Nothing connects until the first query. The URL may carry a password: it
 * is never logged or put in errors by this package.
 */
export function createDb(url: string, options: DbOptions = {}): DbHandle {
  if (typeof url !== 'string' || url.length === 0) throw new DbOptionError('url must be a non-empty string');
  const max = checkInt('max', options.max ?? 10, 1, 1000);
  const idle = checkInt('idleTimeoutSeconds', options.idleTimeoutSeconds ?? 0, 0);
  const connect = checkInt('connectTimeoutSeconds', options.connectTimeoutSeconds ?? 30, 1);
  const sql = postgres(url, {
    max,
    idle_timeout: idle === 0 ? undefined : idle,
    connect_timeout: connect,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'opamp-fleet' },
  });
  const db = drizzle(sql, { schema });
  let closing: Promise<void> | undefined;
  return {
    db,
    sql,
    close() {
      closing ??= sql.end({ timeout: 5 });
      return closing;
    },
  };
}
