import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { InvalidBatchError } from '../errors.js';
import type { ConnectionEvent } from '../events.js';
import { closed, dumpTables, opened, useMigratedDatabase } from '../testing/index.js';
import { applyConnectionEvents } from './connection-events.js';
import { getAgent, listHistory } from './reads.js';

const h = useMigratedDatabase({ max: 8 });

/** Applies each batch, then proves that applying it again writes no row at all. */
async function apply(...batches: ConnectionEvent[][]) {
  for (const batch of batches) {
    await applyConnectionEvents(h.db, batch);
    const before = await dumpTables(h.db, { physical: true });
    expect(await applyConnectionEvents(h.db, batch)).toEqual({
      agentsCreated: 0,
      agentsUpdated: 0,
      historyRowsWritten: 0,
      transitions: 0,
    });
    expect(await dumpTables(h.db, { physical: true })).toEqual(before);
  }
}

describe('applyConnectionEvents edge cases', () => {
  it('handles many agents per batch, several events per agent, and counts what it wrote', async () => {
    const events: ConnectionEvent[] = [];
    for (let i = 0; i < 500; i++) {
      const agentId = `agent-${String(i).padStart(3, '0')}`;
      events.push(opened(`${agentId}/1`, 1, { agentId }), opened(`${agentId}/2`, 2, { agentId }));
      if (i % 2 === 0) events.push(closed(`${agentId}/2`, 2, { agentId }));
    }
    const result = await applyConnectionEvents(h.db, events);
    expect(result).toEqual({
      agentsCreated: 500,
      agentsUpdated: 1250,
      historyRowsWritten: 1000,
      transitions: 750,
    });
    const [counts] = await h.db.execute<{ online: number; offline: number }>(
      sql`select count(*) filter (where status = 'online')::int as online,
        count(*) filter (where status = 'offline')::int as offline from agents`,
    );
    expect(counts).toEqual({ online: 250, offline: 250 });
    await apply(events);
  });

  it('keeps ids and reasons with quotes, commas, braces, backslashes and unicode intact', async () => {
    const agentId = 'a "quoted", {braced} \\ NULL ünï 🚀';
    const reason = 'closed: "x", {y}\\z';
    await apply(
      [opened('c,"1"', 1, { agentId, remoteAddress: '[::1]:80' })],
      [closed('c,"1"', 1, { agentId, reason })],
    );
    expect(await getAgent(h.db, agentId)).toMatchObject({ id: agentId, disconnectReason: reason });
    expect((await listHistory(h.db, agentId))[0]).toMatchObject({
      connectionId: 'c,"1"',
      remoteAddress: '[::1]:80',
    });
  });

  it('rejects a malformed batch before writing anything; an empty batch is a no-op', async () => {
    await expect(
      applyConnectionEvents(h.db, [opened('c1', 1), { ...closed('c1', 1), connectionEpoch: -1 }]),
    ).rejects.toBeInstanceOf(InvalidBatchError);
    expect(await applyConnectionEvents(h.db, [])).toEqual({
      agentsCreated: 0,
      agentsUpdated: 0,
      historyRowsWritten: 0,
      transitions: 0,
    });
    expect(await dumpTables(h.db)).toEqual({ agents: [], history: [], transitions: [] });
  });

  it('deleting an agent cascades to its history and transitions', async () => {
    await apply([opened('c1', 1)], [closed('c1', 1)]);
    await h.db.execute(sql`delete from agents where id = 'agent-1'`);
    expect(await dumpTables(h.db)).toEqual({ agents: [], history: [], transitions: [] });
  });
});
