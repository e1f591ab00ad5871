import { migrate } from '@opamp-fleet/db';
import { lastSeenKey } from '@opamp-fleet/presence';
import { type PostgresFixture, postgresFixture, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { uid } from './testing/fleet.js';
import { createInProcessApi, type InProcessApi } from './testing/in-process.js';

let pg: PostgresFixture;
let redis: RedisFixture;
let h: InProcessApi;
const TIMEOUT_MS = 60_000;
/** Listing keys (ms) and ids, most recently offline first, as the API must return them. */
const expected: Array<{ id: string; keyMs: number }> = [];

beforeAll(async () => {
  [pg, redis] = await Promise.all([postgresFixture(), redisFixture()]);
  await migrate(pg.url);
  h = createInProcessApi({ DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.prefix });
  const client = redis.client();
  const [s] = await client.time();
  const base = Number(s) * 1000 - 30 * 60_000;
  const db = h.database.db;
  // 300 stale agents (online in Postgres, expired scores in groups of 7 ties), 40 offline agents
  // between them, and 200 expired entries without an online row (no row at all, or stored offline
  // with a later time): the join drops those, so pages must read the set in growing windows
  const stale = Array.from({ length: 300 }, (_, i) => ({
    id: uid(1000 + i),
    seen: base + Math.floor(i / 7) * 1000,
  }));
  const offline = Array.from({ length: 40 }, (_, i) => ({ id: uid(5000 + i), at: base + i * 1100 + 500 }));
  const ghosts = Array.from({ length: 200 }, (_, i) => ({ id: uid(9000 + i), seen: base + (i % 50) * 900 }));
  const ts = (ms: number) => new Date(ms).toISOString();
  for (const a of stale) {
    await db.execute(sql`insert into agents (id, status, last_seen_at, last_connected_at)
      values (${a.id}, 'online', ${ts(a.seen - 5000)}, ${ts(base - 60_000)})`);
  }
  for (const a of offline) {
    await db.execute(sql`insert into agents (id, status, status_reason, status_changed_at, last_seen_at)
      values (${a.id}, 'offline', 'heartbeat_timeout', ${ts(a.at)}, ${ts(a.at - TIMEOUT_MS)})`);
  }
  for (const g of ghosts.filter((_, i) => i % 2 === 0)) {
    await db.execute(sql`insert into agents (id, status, status_changed_at)
      values (${g.id}, 'offline', null)`);
  }
  await client.zadd(lastSeenKey(redis.prefix), ...[...stale, ...ghosts].flatMap((a) => [a.seen, a.id]));
  expected.push(
    ...stale.map((a) => ({ id: a.id, keyMs: a.seen + TIMEOUT_MS })),
    ...offline.map((a) => ({ id: a.id, keyMs: a.at })),
  );
  expected.sort((a, b) => b.keyMs - a.keyMs || (a.id < b.id ? -1 : 1));
  // stored offline without a time: last, by id
  expected.push(...ghosts.filter((_, i) => i % 2 === 0).map((g) => ({ id: g.id, keyMs: Number.NaN })));
});

afterAll(async () => {
  await h?.stop();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

async function drain(query: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const url: string = `/api/v1/agents/offline?${query}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await h.api.app.inject(url);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { items: Array<{ id: string }>; next_cursor: string | null };
    ids.push(...body.items.map((a) => a.id));
    cursor = body.next_cursor;
    if (cursor === null) return ids;
  }
  throw new Error('the listing did not end');
}

it('merges expired Redis entries with offline rows in exact order across pages, ties and dropped entries', async () => {
  for (const limit of [7, 50, 500]) {
    expect(await drain(`limit=${limit}`)).toEqual(expected.map((e) => e.id));
  }
});

it('applies since to the stale agents by score + timeout, inclusive', async () => {
  const pivot = expected[120]!;
  const since = new Date(pivot.keyMs).toISOString();
  const want = expected.filter((e) => e.keyMs >= Math.floor(pivot.keyMs)).map((e) => e.id);
  expect(await drain(`limit=9&since=${encodeURIComponent(since)}`)).toEqual(want);
});
