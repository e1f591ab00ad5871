import { type PostgresFixture, postgresFixture } from '@opamp-fleet/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from './client.js';
import { DbOptionError } from './errors.js';

let fx: PostgresFixture;
beforeAll(async () => {
  fx = await postgresFixture();
});
afterAll(async () => {
  await fx?.stop();
});

describe('createDb', () => {
  it('connects with the application name, and close is idempotent', async () => {
    const h = createDb(fx.url, { max: 2, applicationName: 'db-client-test', idleTimeoutSeconds: 30 });
    const [row] = await h.db.execute<{ name: string }>(
      sql`select current_setting('application_name') as name`,
    );
    expect(row?.name).toBe('db-client-test');
    const [viaSql] = await h.sql<{ one: number }[]>`select 1 as one`;
    expect(viaSql?.one).toBe(1);
    const first = h.close();
    expect(h.close()).toBe(first);
    await first;
    await h.close();
    await expect(h.sql`select 1`).rejects.toThrow();
  });

  it('fails fast on bad options, naming the option', () => {
    expect(() => createDb('')).toThrow(DbOptionError);
    expect(() => createDb(fx.url, { max: 0 })).toThrow(/max must be an integer/);
    expect(() => createDb(fx.url, { idleTimeoutSeconds: -1 })).toThrow(/idleTimeoutSeconds/);
    expect(() => createDb(fx.url, { connectTimeoutSeconds: 0.5 })).toThrow(/connectTimeoutSeconds/);
  });
});
