import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../events.js';
import {
  dumpTables,
  opened,
  type RandomScenario,
  randomConnectionScenario,
  seededRandom,
  shuffle,
  truncateTables,
  useMigratedDatabase,
} from '../testing/index.js';
import { applyConnectionEvents, compareConnectionEvents } from './connection-events.js';
import { flushLastSeen } from './last-seen.js';

const h = useMigratedDatabase({ max: 8 });

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

/** Random batches: the events shuffled, cut at random points. */
function randomBatches(events: readonly ConnectionEvent[], random: () => number): ConnectionEvent[][] {
  const shuffled = shuffle(events, random);
  const batches: ConnectionEvent[][] = [];
  let i = 0;
  while (i < shuffled.length) {
    const size = 1 + Math.floor(random() * 5);
    batches.push(shuffled.slice(i, i + size));
    i += size;
  }
  return batches;
}

/** Some events twice, the whole shuffled. */
function withDuplicates(events: readonly ConnectionEvent[], random: () => number): ConnectionEvent[] {
  return shuffle([...events, ...events.filter(() => random() < 0.4)], random);
}

/** The columns that must not depend on arrival order once every event has landed. */
async function convergedState() {
  const rows = await h.db.execute<Record<string, string | null>>(sql`
    select id, status, current_connection_id, connection_epoch::text from agents order by id`);
  return [...rows];
}

function expectedState(scenario: RandomScenario) {
  return [...scenario.newest.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, n]) => ({
      id,
      status: n.closed ? 'offline' : 'online',
      current_connection_id: n.connectionId,
      connection_epoch: n.connectionId === null ? '0' : n.connectionId.split('-').at(-1)!,
    }));
}

describe('replaying connection events', () => {
  it('a physical dump notices a rewritten row (control for the replay checks)', async () => {
    await applyConnectionEvents(h.db, [opened('c1', 1)]);
    const before = await dumpTables(h.db, { physical: true });
    await h.db.execute(sql`update agents set status = status`);
    const after = await dumpTables(h.db, { physical: true });
    expect(after.agents[0]!.xmin).not.toBe(before.agents[0]!.xmin);
    expect(await dumpTables(h.db)).toEqual(await dumpTables(h.db));
  });

  it.each(SEEDS)(
    'one batch in any order, with duplicates, equals the events applied one by one in order (seed %i)',
    async (seed) => {
      const random = seededRandom(seed);
      const { events } = randomConnectionScenario(random, { agents: 8 });
      for (const e of [...events].sort(compareConnectionEvents)) await applyConnectionEvents(h.db, [e]);
      const oneByOne = normalize(await dumpTables(h.db));
      await truncateTables(h.db);

      await applyConnectionEvents(h.db, events);
      const reference = await dumpTables(h.db);
      expect(normalize(reference)).toEqual(oneByOne);
      for (let i = 0; i < 4; i++) {
        await truncateTables(h.db);
        await applyConnectionEvents(h.db, withDuplicates(events, random));
        expect(await dumpTables(h.db), `seed ${seed}, permutation ${i}`).toEqual(reference);
      }
    },
  );

  it.each(SEEDS)(
    'any arrival order and batching converges, and replaying every batch afterwards writes nothing (seed %i)',
    async (seed) => {
      const random = seededRandom(seed);
      const scenario = randomConnectionScenario(random, { agents: 10 });
      let referenceHistory: unknown;
      for (let run = 0; run < 3; run++) {
        await truncateTables(h.db);
        const batches = randomBatches(scenario.events, random);
        for (const batch of batches) await applyConnectionEvents(h.db, batch);

        expect(await convergedState(), `seed ${seed}, run ${run}`).toEqual(expectedState(scenario));
        const dump = await dumpTables(h.db);
        referenceHistory ??= dump.history;
        expect(dump.history).toEqual(referenceHistory);
        expectWellFormedTransitions(dump.transitions);

        const before = await dumpTables(h.db, { physical: true });
        for (const batch of shuffle(batches, random)) {
          const result = await applyConnectionEvents(h.db, withDuplicates(batch, random));
          expect(result).toEqual({
            agentsCreated: 0,
            agentsUpdated: 0,
            historyRowsWritten: 0,
            transitions: 0,
          });
        }
        await applyConnectionEvents(h.db, withDuplicates(scenario.events, random));
        expect(await dumpTables(h.db, { physical: true })).toEqual(before);
      }
    },
  );

  it('concurrent batches over the same agents in different orders neither deadlock nor lose events', async () => {
    const agents = Array.from({ length: 300 }, (_, i) => `agent-${i}`);
    const random = seededRandom(42);
    const writers = Array.from({ length: 8 }, (_, w) => {
      const epoch = w + 1;
      const batch = shuffle(
        agents.map((agentId) => opened(`${agentId}/${epoch}`, epoch, { agentId, gatewayId: `gw-${w}` })),
        random,
      );
      return async () => {
        await applyConnectionEvents(h.db, batch);
        await flushLastSeen(
          h.db,
          shuffle(agents, random),
          agents.map(() => Date.UTC(2026, 0, 1) + epoch),
        );
      };
    });
    await Promise.all(writers.map((write) => write()));
    const rows = await h.db.execute<{ n: number; epochs: string; conns: number; seen: string }>(sql`
      select count(*)::int as n, string_agg(distinct connection_epoch::text, ',') as epochs,
        count(distinct current_connection_id)::int as conns, max(last_seen_at)::text as seen
      from agents where status = 'online'`);
    expect(rows[0]).toMatchObject({ n: 300, epochs: '8', conns: 300 });
    const [history] = await h.db.execute<{ n: number }>(
      sql`select count(*)::int as n from agent_connection_history`,
    );
    expect(history?.n).toBe(2400);
    const [transitions] = await h.db.execute<{ n: number }>(
      sql`select count(*)::int as n from agent_status_transitions`,
    );
    expect(transitions?.n).toBe(300);
  });
});

/** Transition ids depend on how events were grouped into statements; compare the log without them. */
function normalize(dump: Awaited<ReturnType<typeof dumpTables>>) {
  const transitions = dump.transitions
    .map(({ id: _id, ...rest }) => rest)
    .sort((a, b) => (`${a.agent_id}|${a.at}|${a.event_id}` < `${b.agent_id}|${b.at}|${b.event_id}` ? -1 : 1));
  return { ...dump, transitions };
}

/** Per agent, in id order: the first comes from NULL, each starts where the previous ended. */
function expectWellFormedTransitions(rows: Record<string, string | null>[]) {
  const last = new Map<string, string | null>();
  for (const row of rows) {
    const agent = row.agent_id!;
    expect(row.from_status).toBe(last.has(agent) ? last.get(agent) : null);
    expect(row.to_status).not.toBe(row.from_status);
    expect(row.event_id!.startsWith(row.to_status === 'online' ? 'open:' : 'close:')).toBe(true);
    last.set(agent, row.to_status!);
  }
}
