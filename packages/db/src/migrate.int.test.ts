import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type PostgresFixture, postgresFixture } from '@opamp-fleet/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, migrateCli, migrationsFolder } from './migrate.js';

const fixtures: PostgresFixture[] = [];
async function emptyDatabase(): Promise<PostgresFixture> {
  const fx = await postgresFixture();
  fixtures.push(fx);
  return fx;
}
afterAll(async () => {
  await Promise.allSettled(fixtures.map((f) => f.stop()));
});

/** Tables, columns, constraints and indexes of the public schema, as text. */
async function schemaOf(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ line: string }[]>`
      select format('column %s.%s %s null=%s default=%s', table_name, column_name, data_type, is_nullable,
        coalesce(column_default, '-')) as line
      from information_schema.columns where table_schema = 'public'
      union all
      select format('constraint %s %s', conname, pg_get_constraintdef(c.oid))
      from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = 'public'
      union all
      select format('index %s', indexdef) from pg_indexes where schemaname = 'public'
      order by 1`;
    return rows.map((r) => r.line);
  } finally {
    await sql.end();
  }
}

const sink = () => {
  const chunks: string[] = [];
  return { write: (c: string) => chunks.push(c), text: () => chunks.join('') };
};

describe('migrate', () => {
  let fx: PostgresFixture;
  beforeAll(async () => {
    fx = await emptyDatabase();
  });

  it('resolves the repository drizzle folder relative to the module', () => {
    const folder = migrationsFolder();
    expect(existsSync(join(folder, 'meta', '_journal.json'))).toBe(true);
    expect(folder.endsWith('drizzle')).toBe(true);
  });

  it('builds the schema from an empty database, and a second run is a no-op', async () => {
    expect(await schemaOf(fx.url)).toEqual([]);
    const first = await migrate(fx.url);
    expect(first.applied).toBeGreaterThanOrEqual(1);
    expect(first.total).toBe(first.applied);
    const schema = await schemaOf(fx.url);
    expect(schema).toEqual(
      expect.arrayContaining([
        'column agents.connection_epoch bigint null=NO default=0',
        "constraint agents_status_check CHECK ((status = ANY (ARRAY['online'::text, 'offline'::text, 'error'::text])))",
        'constraint agent_connection_history_agent_id_agents_id_fk FOREIGN KEY (agent_id) REFERENCES agents(id) ON DELETE CASCADE',
        'constraint agent_status_transitions_event_id_key UNIQUE (event_id)',
        'index CREATE INDEX agents_description_gin_idx ON public.agents USING gin (description jsonb_path_ops)',
        'index CREATE INDEX agents_status_changed_idx ON public.agents USING btree (status, status_changed_at DESC NULLS LAST, id)',
        'index CREATE INDEX agent_connection_history_agent_connected_idx ON public.agent_connection_history USING btree (agent_id, connected_at DESC NULLS LAST)',
        'index CREATE INDEX agent_status_transitions_agent_at_idx ON public.agent_status_transitions USING btree (agent_id, at DESC NULLS LAST, id DESC NULLS LAST)',
      ]),
    );

    // the heartbeat flush's updates of last_seen_at stay in place (HOT): no index covers it, and
    // every page of agents leaves room
    expect(schema.filter((line) => line.startsWith('index') && line.includes('last_seen_at'))).toEqual([]);
    const one = postgres(fx.url, { max: 1, onnotice: () => {} });
    try {
      const [agents] = await one<{ reloptions: string[] | null }[]>`
        select reloptions from pg_class where relname = 'agents' and relkind = 'r'`;
      expect(agents?.reloptions).toEqual(['fillfactor=70']);
    } finally {
      await one.end();
    }

    expect(await migrate(fx.url)).toEqual({ applied: 0, total: first.total });
    expect(await schemaOf(fx.url)).toEqual(schema);
  });

  it('serializes concurrent runs on an empty database', async () => {
    const other = await emptyDatabase();
    const results = await Promise.all([migrate(other.url), migrate(other.url), migrate(other.url)]);
    const total = results[0]!.total;
    expect(results.map((r) => r.applied).sort()).toEqual([0, 0, total]);
    expect(await schemaOf(other.url)).toEqual(await schemaOf(fx.url));
  });

  it('fails on a folder without migrations', async () => {
    await expect(migrate(fx.url, { migrationsFolder: '/nonexistent/drizzle' })).rejects.toThrow();
  });
});

describe('migrateCli', () => {
  it('migrates and prints the counts, exit code 0', async () => {
    const fx = await emptyDatabase();
    const out = sink();
    const err = sink();
    expect(await migrateCli([fx.url], out, err)).toBe(0);
    expect(out.text()).toMatch(/^migrations: [1-9]\d* applied, [1-9]\d* total\n$/);
    expect(await migrateCli([fx.url], out, err)).toBe(0);
    expect(out.text()).toMatch(/migrations: 0 applied/);
    expect(err.text()).toBe('');
  });

  it('prints usage without exactly one URL argument, exit code 2', async () => {
    for (const args of [[], ['a', 'b'], ['--help']]) {
      const err = sink();
      expect(await migrateCli(args, sink(), err)).toBe(2);
      expect(err.text()).toContain('usage: migrate-cli <database-url>');
    }
  });

  it('reports a failure without echoing the URL or its password, exit code 1', async () => {
    const err = sink();
    const url = 'postgres://fleet:s3cret-pass@127.0.0.1:1/none';
    expect(await migrateCli([url], sink(), err)).toBe(1);
    expect(err.text()).toMatch(/^migration failed: /);
    expect(err.text()).not.toContain('s3cret-pass');
  });
});
