import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { DbExecutor } from '../client.js';

const dialect = new PgDialect();

/**
 * Runs a raw statement as a named prepared statement and returns its rows as objects.
 *
 * drizzle's `execute()` runs unnamed statements, for which postgres.js first describes the
 * statement and only then binds it: two round trips and a parse on every call. A prepared statement
 * is parsed and described once per pooled connection (postgres.js keys its cache by the statement
 * text and parameter types), after which each call is a single Bind/Execute round trip and Postgres
 * may reuse its plan. Use it for the hot reads, whose text depends only on which options are set.
 */
export async function executePrepared<Row = Record<string, unknown>>(
  db: DbExecutor,
  statement: SQL,
): Promise<Row[]> {
  const query = dialect.sqlToQuery(statement);
  // postgres.js names the statement itself; any name makes drizzle ask it to prepare
  const prepared = db._.session.prepareQuery(query, undefined, 'prepared', false);
  return (await prepared.execute()) as Row[];
}

/**
 * `fragment` rendered to text once. Embedding the result costs one chunk instead of a walk over
 * every nested fragment on each call. Only for fragments without parameters.
 */
export function constantSql(fragment: SQL): SQL {
  const query = dialect.sqlToQuery(fragment);
  if (query.params.length > 0) throw new Error('constantSql: the fragment has parameters');
  return sql.raw(query.sql);
}
