import { type PostgresFixture, postgresFixture } from '@opamp-fleet/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../client.js';
import { executePrepared } from './prepared.js';

let fx: PostgresFixture;
let h: DbHandle;

beforeAll(async () => {
  fx = await postgresFixture();
  h = createDb(fx.url, { max: 1 }); // one connection: the statement cache under test is per connection
});
afterAll(async () => {
  await h?.close();
  await fx?.stop();
});

const statement = (n: number, label: string) =>
  sql`select g as n, ${label}::text as label from generate_series(1, ${n}::int) g order by g`;

describe('executePrepared', () => {
  it('returns the rows execute() returns, with the values of each call', async () => {
    expect(await executePrepared(h.db, statement(3, 'a'))).toEqual([
      ...(await h.db.execute(statement(3, 'a'))),
    ]);
    expect(await executePrepared(h.db, statement(2, 'b'))).toEqual([
      { n: 1, label: 'b' },
      { n: 2, label: 'b' },
    ]);
  });

  it('prepares a statement once per connection and reuses it', async () => {
    const text = 'select g as n, $1::text as label from generate_series(1, $2::int) g order by g';
    const prepared = async () =>
      (
        await h.sql<
          { n: number }[]
        >`select count(*)::int as n from pg_prepared_statements where statement = ${text}`
      )[0]!.n;
    for (let i = 0; i < 5; i++) await executePrepared(h.db, statement(i + 1, `v${i}`));
    expect(await prepared()).toBe(1);
  });

  it('runs inside a transaction', async () => {
    const rows = await h.db.transaction((tx) => executePrepared<{ n: number }>(tx, statement(1, 'tx')));
    expect(rows).toEqual([{ n: 1, label: 'tx' }]);
  });
});
