import { type PostgresFixture, postgresFixture } from '@opamp-fleet/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../client.js';
import { DbOptionError } from '../errors.js';
import type { ConnectionEvent } from '../events.js';
import { migrate } from '../migrate.js';
import { closed, opened, truncateTables } from '../testing/index.js';
import {
  historyPageQuery,
  pageConnectionHistory,
  pageTransitions,
  transitionsPageQuery,
} from './api-history-queries.js';
import {
  agentExists,
  agentsPageQuery,
  countAgentsByStatus,
  countStaleOnline,
  databaseNowMs,
  listStaleOnline,
  offlinePageQuery,
  pageAgents,
  pageOfflineAgents,
} from './api-queries.js';
import type { TimeKey } from './api-rows.js';
import { applyConnectionEvents } from './connection-events.js';
import { flushLastSeen } from './last-seen.js';
import { getAgent, getAgentStatus } from './reads.js';
import { applyStateEvents } from './state-events.js';

let fx: PostgresFixture;
let h: DbHandle;

beforeAll(async () => {
  fx = await postgresFixture();
  await migrate(fx.url);
  h = createDb(fx.url, { max: 4 });
});
afterAll(async () => {
  await h?.close();
  await fx?.stop();
});
beforeEach(async () => {
  await truncateTables(h.db);
});

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

/** Reads every page of a keyset listing; fails on a repeated row. */
async function drain<R, K>(page: (after: K | null) => Promise<R[]>, key: (r: R) => K, id: (r: R) => string) {
  const out: R[] = [];
  let after: K | null = null;
  for (let i = 0; i < 100; i++) {
    const rows = await page(after);
    out.push(...rows);
    if (rows.length === 0) break;
    after = key(rows.at(-1)!);
  }
  const ids = out.map(id);
  expect(new Set(ids).size).toBe(ids.length);
  return out;
}

describe('pageConnectionHistory', () => {
  it('lists newest first with ties and unknown connect times last, across pages without gaps', async () => {
    const events: ConnectionEvent[] = [];
    for (let i = 1; i <= 9; i++) {
      // three connections share each connect time
      events.push(opened(`c${i}`, i, { at: T0 + Math.ceil(i / 3) * MIN + 0.5 }));
      events.push(closed(`c${i}`, i, { at: T0 + Math.ceil(i / 3) * MIN + 1000 }));
    }
    events.push(closed('late-1', 20, { at: T0 + 9 * MIN }), closed('late-2', 21, { at: T0 + 9 * MIN }));
    await applyConnectionEvents(h.db, events);

    const all = await drain(
      (after: TimeKey | null) => pageConnectionHistory(h.db, 'agent-1', { limit: 2, after }),
      (r) => r.key,
      (r) => r.connectionId,
    );
    expect(all.map((r) => r.connectionId)).toEqual([
      'c9',
      'c8',
      'c7',
      'c6',
      'c5',
      'c4',
      'c3',
      'c2',
      'c1',
      'late-2',
      'late-1',
    ]);
    expect(all[0]).toMatchObject({
      gatewayId: 'gw-1',
      transport: 'ws',
      disconnectReason: 'connection_closed',
    });
    expect(all[0]!.connectedAt?.getTime()).toBe(T0 + 3 * MIN);
    expect(all[0]!.key.us).toBe((T0 + 3 * MIN) * 1000 + 500);
    expect(all.at(-1)!.connectedAt).toBeNull();
    expect(await pageConnectionHistory(h.db, 'nobody', { limit: 5 })).toEqual([]);
  });
});

describe('pageTransitions', () => {
  it('lists newest first by (at, id) across pages', async () => {
    const events: ConnectionEvent[] = [];
    for (let i = 1; i <= 5; i++) {
      events.push(opened(`c${i}`, i, { at: T0 + i * MIN }), closed(`c${i}`, i, { at: T0 + i * MIN + 10 }));
    }
    for (const e of events) await applyConnectionEvents(h.db, [e]);
    const all = await drain(
      (after: TimeKey<number> | null) => pageTransitions(h.db, 'agent-1', { limit: 3, after }),
      (r) => r.key,
      (r) => String(r.id),
    );
    expect(all).toHaveLength(10);
    const times = all.map((t) => t.at.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all[0]).toMatchObject({
      fromStatus: 'online',
      toStatus: 'offline',
      decidedBy: expect.any(String),
    });
    expect(() => transitionsPageQuery('a', { limit: 1, after: { us: null, id: 1 } })).toThrow(DbOptionError);
  });
});

describe('pageOfflineAgents', () => {
  async function seedFleet() {
    const events: ConnectionEvent[] = [];
    // offline agents: two share each offline time
    for (let i = 0; i < 6; i++) {
      const agentId = `off-${i}`;
      events.push(opened(`o${i}`, i + 1, { agentId, at: T0 }));
      events.push(
        closed(`o${i}`, i + 1, {
          agentId,
          at: T0 + (1 + Math.floor(i / 2)) * MIN,
          reason: i % 2 === 0 ? 'agent_disconnect' : 'connection_closed',
        }),
      );
    }
    // online agents: stale-0 last seen long ago, fresh-0 recently
    events.push(opened('s0', 100, { agentId: 'stale-0', at: T0 }));
    events.push(opened('f0', 101, { agentId: 'fresh-0', at: T0 }));
    await applyConnectionEvents(h.db, events);
    await flushLastSeen(h.db, ['stale-0', 'fresh-0'], [T0 + 2 * MIN + 30_000, T0 + 10 * MIN]);
    // offline with an unknown offline time (seen by presence only)
    await flushLastSeen(h.db, ['ghost-b', 'ghost-a'], [T0, T0]);
  }

  const stale = { beforeMs: T0 + 9 * MIN, timeoutMs: MIN, reason: 'heartbeat_timeout' };

  it('merges offline agents and stale candidates newest first, unknown times last, across pages', async () => {
    await seedFleet();
    const all = await drain(
      (after: TimeKey | null) => pageOfflineAgents(h.db, { limit: 3, after, stale }),
      (r) => r.key,
      (r) => r.agent.id,
    );
    expect(all.map((r) => r.agent.id)).toEqual([
      'stale-0', // seen at 2:30, offline since 3:30
      'off-4',
      'off-5',
      'off-2',
      'off-3',
      'off-0',
      'off-1',
      'ghost-a',
      'ghost-b',
    ]);
    expect(all[0]).toMatchObject({ staleCandidate: true, offlineSince: new Date(T0 + 3 * MIN + 30_000) });
    expect(all[1]).toMatchObject({ staleCandidate: false, offlineSince: new Date(T0 + 3 * MIN) });
    expect(all.at(-1)).toMatchObject({ offlineSince: null, key: { us: null, id: 'ghost-b' } });

    const noStale = await pageOfflineAgents(h.db, { limit: 20 });
    expect(noStale.map((r) => r.agent.id)).not.toContain('stale-0');
  });

  it('filters by since and reason', async () => {
    await seedFleet();
    const since = await pageOfflineAgents(h.db, { limit: 20, sinceMs: T0 + 2 * MIN, stale });
    expect(since.map((r) => r.agent.id)).toEqual(['stale-0', 'off-4', 'off-5', 'off-2', 'off-3']);
    const reason = await pageOfflineAgents(h.db, { limit: 20, reason: 'agent_disconnect', stale });
    expect(reason.map((r) => r.agent.id)).toEqual(['off-4', 'off-2', 'off-0']);
    const timeouts = await pageOfflineAgents(h.db, { limit: 20, reason: 'heartbeat_timeout', stale });
    expect(timeouts.map((r) => r.agent.id)).toEqual(['stale-0']);
    const afterUnknown = await pageOfflineAgents(h.db, {
      limit: 20,
      sinceMs: T0,
      after: { us: null, id: 'ghost-a' },
    });
    expect(afterUnknown).toEqual([]);
  });
});

/**
 * `n` agents `<prefix>1..n`, every third online; agent g changed status and was last seen g seconds
 * after T0, and connected at T0. Analyzed, as autovacuum keeps a live table.
 */
async function seedSecondly(prefix: string, n: number): Promise<void> {
  await h.db.execute(sql`
    insert into agents (id, status, status_changed_at, last_seen_at, last_connected_at)
    select ${prefix} || g, case when g % 3 = 0 then 'online' else 'offline' end,
      timestamptz '2026-01-01' + g * interval '1 second', timestamptz '2026-01-01' + g * interval '1 second',
      timestamptz '2026-01-01'
    from generate_series(1, ${n}::int) g`);
  await h.db.execute(sql`analyze agents`);
}

describe('pageOfflineAgents stale candidates', () => {
  it('orders by freshest time + timeout, then id, with exact cursors and since bounds', async () => {
    // 40 online agents: last_seen_at and last_connected_at at odd microseconds, some NULL, with ties.
    await h.db.execute(sql`
      insert into agents (id, status, last_seen_at, last_connected_at)
      select 'st-' || lpad(g::text, 2, '0'), 'online',
        case when g % 5 = 0 then null else timestamptz '2026-01-01' + (g % 17) * interval '20.000123 seconds' end,
        case when g % 7 = 0 then null else timestamptz '2026-01-01' + (g % 11) * interval '31.000007 seconds' end
      from generate_series(1, 40) g`);
    const beforeMs = T0 + 4 * MIN + 0.5;
    const timeoutMs = 90_000;
    const raw = await h.db.execute<{ id: string; f: string | null }>(
      sql`select id, (extract(epoch from greatest(last_seen_at, last_connected_at)) * 1000000)::bigint as f
        from agents`,
    );
    const expected = raw
      .filter((r) => r.f !== null && Number(r.f) < beforeMs * 1000)
      .map((r) => ({ id: r.id, us: Number(r.f) + timeoutMs * 1000 }))
      .sort((a, b) => b.us - a.us || (a.id < b.id ? -1 : 1));
    expect(expected.length).toBeGreaterThan(10);
    expect(expected.length).toBeLessThan(raw.length);
    const stale = { beforeMs, timeoutMs, reason: 'heartbeat_timeout' };
    const all = await drain(
      (after: TimeKey | null) => pageOfflineAgents(h.db, { limit: 3, after, stale }),
      (r) => r.key,
      (r) => r.agent.id,
    );
    expect(all.map((r) => r.key)).toEqual(expected.map((e) => ({ us: e.us, id: e.id })));
    expect(all.every((r) => r.staleCandidate)).toBe(true);
    // since is inclusive at the exact offline time, in whole or fractional ms.
    const pivot = expected[Math.floor(expected.length / 2)]!;
    const since = await pageOfflineAgents(h.db, { limit: 100, sinceMs: pivot.us / 1000, stale });
    expect(since.map((r) => r.agent.id)).toEqual(expected.filter((e) => e.us >= pivot.us).map((e) => e.id));
  });

  it('with candidates: lists exactly those online agents, by the later of their score and Postgres times', async () => {
    await h.db.execute(sql`
      insert into agents (id, status, last_seen_at, last_connected_at)
      values ('c-pg', 'online', ${'2026-01-01T00:02:00Z'}, ${'2026-01-01T00:00:00Z'}),
        ('c-redis', 'online', ${'2026-01-01T00:01:00Z'}, ${'2026-01-01T00:00:00Z'}),
        ('c-fresh', 'online', ${'2026-01-01T00:01:00Z'}, ${'2026-01-01T00:00:00Z'}),
        ('c-off', 'offline', ${'2026-01-01T00:01:00Z'}, ${'2026-01-01T00:00:00Z'}),
        ('c-other', 'online', ${'2026-01-01T00:01:00Z'}, ${'2026-01-01T00:00:00Z'})`);
    const timeoutMs = 60_000;
    const stale = {
      beforeMs: T0 + 4 * MIN,
      timeoutMs,
      reason: 'heartbeat_timeout',
      // c-pg: Postgres is later than the score; c-redis: the score is; c-fresh: the score is past
      // the cutoff; c-off: stored offline (listed by its own branch only when it has a time);
      // c-other: stale in Postgres, but no candidate
      candidates: {
        ids: ['c-pg', 'c-redis', 'c-fresh', 'c-off', 'no-row'],
        seenMs: [T0 + MIN, T0 + 3 * MIN + 0.5, T0 + 5 * MIN, T0, T0],
      },
    };
    const rows = await pageOfflineAgents(h.db, { limit: 10, stale });
    expect(rows.map((r) => [r.agent.id, r.key.us, r.staleCandidate])).toEqual([
      ['c-redis', (T0 + 3 * MIN + 0.5 + timeoutMs) * 1000, true],
      ['c-pg', (T0 + 2 * MIN + timeoutMs) * 1000, true],
      ['c-off', null, false],
    ]);
    // the cursor and since bounds apply to the same times
    const next = await pageOfflineAgents(h.db, { limit: 10, stale, after: rows[0]!.key });
    expect(next.map((r) => r.agent.id)).toEqual(['c-pg', 'c-off']);
    const since = await pageOfflineAgents(h.db, { limit: 10, stale, sinceMs: T0 + 3 * MIN + timeoutMs });
    expect(since.map((r) => r.agent.id)).toEqual(['c-redis']);
    expect(() =>
      offlinePageQuery({ limit: 1, stale: { ...stale, candidates: { ids: ['a'], seenMs: [] } } }),
    ).toThrow(/1 ids but 0 times/);
    expect(() =>
      offlinePageQuery({ limit: 1, stale: { ...stale, candidates: { ids: ['a'], seenMs: [Number.NaN] } } }),
    ).toThrow(/seenMs\[0\] must be finite/);
  });

  it('reads candidates by primary key, and offline agents from the status index (plan shown on failure)', async () => {
    await seedSecondly('q-', 3000);
    const stale = {
      beforeMs: T0 + 40 * MIN,
      timeoutMs: 60_000,
      reason: 'x',
      candidates: { ids: ['q-3', 'q-6'], seenMs: [T0, T0] },
    };
    const plan = (
      await h.db.execute<{ 'QUERY PLAN': string }>(
        sql`explain ${offlinePageQuery({ limit: 100, after: { us: (T0 + 30 * MIN) * 1000, id: 'q-9' }, stale })}`,
      )
    )
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    expect(plan, plan).toContain('agents_pkey');
    expect(plan, plan).toContain('agents_status_changed_idx');
    expect(plan, plan).not.toMatch(/Seq Scan on agents/);
  });
});

describe('offline page statement', () => {
  it('keeps one generic plan for first pages on a connection: Postgres stops re-planning it', async () => {
    // enough rows that a LIMIT parameter (costed as a tenth of them) makes the generic plan lose
    await seedSecondly('g-', 30_000);
    const one = createDb(fx.url, { max: 1 });
    try {
      // the first page as the API reads it in a healthy fleet: a stale rule whose Redis window held
      // no expired entry (a candidates branch would bind arrays, which Postgres plans per
      // execution; an empty list leaves the branch out). Page sizes 97..101 share one statement
      // (their literal branch limit is 104).
      const stale = { beforeMs: T0, timeoutMs: 60_000, reason: 'x', candidates: { ids: [], seenMs: [] } };
      for (let i = 0; i < 8; i++) {
        const rows = await pageOfflineAgents(one.db, { limit: 97 + (i % 5), stale });
        expect(rows.length).toBe(97 + (i % 5));
        expect(rows.every((r) => !r.staleCandidate)).toBe(true);
      }
      const stats = await one.db.execute<{ generic_plans: string; custom_plans: string }>(sql`
        select generic_plans, custom_plans from pg_prepared_statements where statement like '%union all%'`);
      expect(stats.length).toBe(1);
      // Postgres plans the first five executions as custom plans, then keeps the generic one when
      // it costs no more
      expect(Number(stats[0]!.generic_plans)).toBeGreaterThanOrEqual(2);
    } finally {
      await one.close();
    }
  });
});

describe('pageAgents and counts', () => {
  it('pages by id with attribute and status filters', async () => {
    const events: ConnectionEvent[] = [];
    for (let i = 0; i < 5; i++) events.push(opened(`c${i}`, i + 1, { agentId: `a-${i}`, at: T0 }));
    events.push(closed('c4', 5, { agentId: 'a-4', at: T0 + MIN }));
    await applyConnectionEvents(h.db, events);
    await flushLastSeen(
      h.db,
      ['a-0', 'a-1', 'a-2', 'a-3'],
      [T0 + 10 * MIN, T0, T0 + 10 * MIN, T0 + 10 * MIN],
    );
    await applyStateEvents(
      h.db,
      [0, 1, 2, 3].map((i) => ({
        type: 'agent_state' as const,
        agentId: `a-${i}`,
        connectionEpoch: i + 1,
        sequenceNum: 1,
        at: T0,
        description: {
          identifying: { 'service.name': i < 2 ? 'checkout' : 'cart' },
          nonIdentifying: { 'host.name': `h${i % 2}`, count: 3 },
        },
      })),
    );

    const all = await drain(
      (after: string | null) => pageAgents(h.db, { limit: 2, afterId: after }),
      (r) => r.id,
      (r) => r.id,
    );
    expect(all.map((r) => r.id)).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
    expect(all[0]!.description?.identifying['service.name']).toBe('checkout');

    const attr = (key: string, value: string) => ({ key, value });
    const ids = async (o: Parameters<typeof pageAgents>[1]) => (await pageAgents(h.db, o)).map((r) => r.id);
    expect(await ids({ limit: 10, attributes: [attr('service.name', 'checkout')] })).toEqual(['a-0', 'a-1']);
    expect(await ids({ limit: 10, attributes: [attr('host.name', 'h0')] })).toEqual(['a-0', 'a-2']);
    expect(
      await ids({ limit: 10, attributes: [attr('service.name', 'cart'), attr('host.name', 'h1')] }),
    ).toEqual(['a-3']);
    expect(await ids({ limit: 10, attributes: [attr('count', '3')] })).toEqual([]);
    expect(await ids({ limit: 10, status: 'offline' })).toEqual(['a-4']);
    const cutoff = T0 + 5 * MIN;
    expect(await ids({ limit: 10, status: 'offline', staleBeforeMs: cutoff })).toEqual(['a-1', 'a-4']);
    expect(await ids({ limit: 10, status: 'online' })).toEqual(['a-0', 'a-1', 'a-2', 'a-3']);

    expect(await countAgentsByStatus(h.db)).toEqual({ online: 4, offline: 1, error: 0 });
    expect(await countStaleOnline(h.db, cutoff)).toBe(1);
    expect(await listStaleOnline(h.db, { beforeMs: cutoff, limit: 10 })).toEqual([
      { agentId: 'a-1', freshestMs: T0 },
    ]);
    // a status read: the agent row's status fields, none of its JSON or bookkeeping
    for (const id of ['a-1', 'a-4']) {
      const full = (await getAgent(h.db, id))!;
      const status = await getAgentStatus(h.db, id);
      expect(status).toEqual({
        id,
        status: full.status,
        statusReason: full.statusReason,
        statusChangedAt: full.statusChangedAt,
        lastSeenAt: full.lastSeenAt,
        lastConnectedAt: full.lastConnectedAt,
        lastDisconnectedAt: full.lastDisconnectedAt,
        disconnectReason: full.disconnectReason,
        transport: full.transport,
      });
    }
    expect((await getAgentStatus(h.db, 'a-4'))?.disconnectReason).toBe('connection_closed');
    expect(await getAgentStatus(h.db, 'zz')).toBeNull();
    expect(await agentExists(h.db, 'a-1')).toBe(true);
    expect(await agentExists(h.db, 'zz')).toBe(false);
    expect(Math.abs((await databaseNowMs(h.db)) - Date.now())).toBeLessThan(60_000);
    expect(() => agentsPageQuery({ limit: 0 })).toThrow(DbOptionError);
    expect(() => agentsPageQuery({ limit: 1, attributes: [attr('', 'x')] })).toThrow(DbOptionError);
  });
});

describe('query plans', () => {
  it('use the indexes of the keysets (plans shown on failure)', async () => {
    await h.db.execute(sql`
      insert into agents (id, status, status_changed_at, last_seen_at)
      select 'p-' || g, case when g % 3 = 0 then 'online' else 'offline' end,
        timestamptz '2026-01-01' + g * interval '1 second', timestamptz '2026-01-01' + g * interval '1 second'
      from generate_series(1, 3000) g`);
    await h.db.execute(sql`
      insert into agent_connection_history (connection_id, agent_id, connection_epoch, gateway_id, connected_at)
      select 'h-' || g, 'p-' || (g % 50 + 1), g, 'gw', timestamptz '2026-01-01' + g * interval '1 second'
      from generate_series(1, 3000) g`);
    await h.db.execute(sql`
      insert into agent_status_transitions (event_id, agent_id, to_status, at, decided_by)
      select 'e-' || g, 'p-' || (g % 50 + 1), 'online', timestamptz '2026-01-01' + g * interval '1 second', 'worker'
      from generate_series(1, 3000) g`);
    await h.db.execute(sql`analyze`);
    const after = { us: Date.UTC(2026, 0, 1, 0, 30) * 1000, id: 'p-9' };
    const plans = await h.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      const explain = async (q: ReturnType<typeof sql>) =>
        (await tx.execute<{ 'QUERY PLAN': string }>(sql`explain ${q}`))
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      return {
        offline: await explain(
          offlinePageQuery({ limit: 100, after, stale: { beforeMs: T0, timeoutMs: 60_000, reason: 'x' } }),
        ),
        history: await explain(historyPageQuery('p-7', { limit: 100, after: { us: after.us, id: 'h-1' } })),
        transitions: await explain(
          transitionsPageQuery('p-7', { limit: 100, after: { us: after.us, id: 9 } }),
        ),
        agents: await explain(agentsPageQuery({ limit: 100, afterId: 'p-5', status: 'online' })),
      };
    });
    expect(plans.offline, plans.offline).toContain('agents_status_changed_idx');
    expect(plans.history, plans.history).toContain('agent_connection_history_agent_connected_idx');
    expect(plans.transitions, plans.transitions).toContain('agent_status_transitions_agent_at_idx');
    expect(plans.agents, plans.agents).toMatch(/Index/);
  });
});
