import { createDb, type DbHandle, migrate } from '@opamp-fleet/db';
import { eventually, type PostgresFixture, postgresFixture } from '@opamp-fleet/testkit';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresLease } from './postgres-lease.js';

let fx: PostgresFixture;
let h: DbHandle;
let n = 0;

beforeAll(async () => {
  fx = await postgresFixture();
  await migrate(fx.url);
  h = createDb(fx.url, { max: 6 });
  await h.db.execute(sql`create table probe (lease text, v int)`);
});
afterAll(async () => {
  await h?.close();
  await fx?.stop();
});

/** A fresh lease name per test, so tests share the database without sharing a row. */
function leaseName(): string {
  n += 1;
  return `lease-${n}`;
}

function fakeClock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

/** A write fenced the way the contract asks: the fence is evaluated once, in a CTE. */
async function fencedInsert(lease: string, v: number, fence: SQL): Promise<boolean> {
  const rows = await h.db.execute<{ held: boolean }>(sql`
    with f as (select ${fence} as held),
    ins as (insert into probe select ${lease}::text, ${v}::int where (select held from f) returning 1)
    select (select held from f) as held`);
  return rows[0]!.held;
}

async function probe(lease: string): Promise<number[]> {
  const rows = await h.db.execute<{ v: number }>(sql`select v from probe where lease = ${lease} order by v`);
  return rows.map((r) => r.v);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createPostgresLease', () => {
  it('has one holder at a time; renewals keep the token', async () => {
    const name = leaseName();
    const a = createPostgresLease({ db: h.db, name, holder: 'a', ttlMs: 60_000 });
    const b = createPostgresLease({ db: h.db, name, holder: 'b', ttlMs: 60_000 });
    expect(await a.tryAcquire()).toBe(true);
    expect(a.token).toBe(1);
    expect(a.isLeader).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    expect(b.token).toBeNull();
    expect(b.isLeader).toBe(false);
    expect(await a.tryAcquire()).toBe(true);
    expect(a.token).toBe(1);
  });

  it('hands over after expiry with a new token; the former holder writes nothing', async () => {
    const name = leaseName();
    const a = createPostgresLease({ db: h.db, name, holder: 'a', ttlMs: 150 });
    const b = createPostgresLease({ db: h.db, name, holder: 'b', ttlMs: 60_000 });
    expect(await a.tryAcquire()).toBe(true);
    const stale = a.token!;
    expect(await fencedInsert(name, 1, a.fence(stale))).toBe(true);
    await eventually(async () => expect(await b.tryAcquire()).toBe(true), { timeoutMs: 3000 });
    expect(b.token).toBe(stale + 1);

    expect(await fencedInsert(name, 2, a.fence(stale))).toBe(false);
    expect(await fencedInsert(name, 3, b.fence(b.token!))).toBe(true);
    expect(await probe(name)).toEqual([1, 3]);
  });

  it('fences a holder whose lease expired even when nobody took it over', async () => {
    const name = leaseName();
    const a = createPostgresLease({ db: h.db, name, holder: 'a', ttlMs: 100 });
    expect(await a.tryAcquire()).toBe(true);
    await sleep(150);
    expect(await fencedInsert(name, 1, a.fence(1))).toBe(false);
    expect(await a.tryAcquire()).toBe(true); // nobody else held it: same token
    expect(a.token).toBe(1);
    expect(await fencedInsert(name, 2, a.fence(1))).toBe(true);
    expect(await probe(name)).toEqual([2]);
  });

  it('release lets another holder acquire at once; releasing twice is a no-op', async () => {
    const name = leaseName();
    const a = createPostgresLease({ db: h.db, name, holder: 'a', ttlMs: 60_000 });
    const b = createPostgresLease({ db: h.db, name, holder: 'b', ttlMs: 60_000 });
    await a.tryAcquire();
    await a.release();
    await a.release();
    expect(a.isLeader).toBe(false);
    expect(await b.tryAcquire()).toBe(true);
    expect(b.token).toBe(2);
    expect(await fencedInsert(name, 1, a.fence(1))).toBe(false);
  });

  it('isLeader turns false once ttlMs passed on the local clock, or when lost() is called', async () => {
    const clock = fakeClock(1000);
    const a = createPostgresLease({ db: h.db, name: leaseName(), holder: 'a', ttlMs: 5000, clock });
    await a.tryAcquire();
    clock.t = 5999;
    expect(a.isLeader).toBe(true);
    clock.t = 6000;
    expect(a.isLeader).toBe(false);
    expect(a.token).toBe(1);
    clock.t = 1000;
    a.lost();
    expect(a.isLeader).toBe(false);
    expect(a.token).toBeNull();
  });

  it('a takeover waits for a fenced statement in flight, so that write commits before it', async () => {
    const name = leaseName();
    const a = createPostgresLease({ db: h.db, name, holder: 'a', ttlMs: 200 });
    const b = createPostgresLease({ db: h.db, name, holder: 'b', ttlMs: 60_000 });
    await a.tryAcquire();
    const order: string[] = [];
    const slow = h.db.transaction(async (tx) => {
      await tx.execute(sql`
        with f as (select ${a.fence(a.token!)} as held)
        insert into probe select ${name}::text, 1 where (select held from f)`);
      await sleep(600); // the lease expires meanwhile; the row stays locked until commit
      order.push('a committed');
    });
    await sleep(300);
    const takeover = eventually(
      async () => {
        expect(await b.tryAcquire()).toBe(true);
        order.push('b acquired');
      },
      { timeoutMs: 3000 },
    );
    await Promise.all([slow, takeover]);
    expect(order).toEqual(['a committed', 'b acquired']);
    expect(await probe(name)).toEqual([1]);
  });

  it('rejects invalid options naming them', () => {
    expect(() => createPostgresLease({ db: h.db, name: '', holder: 'a', ttlMs: 1000 })).toThrow(/name/);
    expect(() => createPostgresLease({ db: h.db, name: 'x', holder: '', ttlMs: 1000 })).toThrow(/holder/);
    expect(() => createPostgresLease({ db: h.db, name: 'x', holder: 'a', ttlMs: 10 })).toThrow(/ttlMs/);
    const lease = createPostgresLease({ db: h.db, name: 'x', holder: 'a', ttlMs: 1000 });
    expect(() => lease.fence(0)).toThrow(/token/);
  });
});
