import { describe, expect, it } from 'vitest';
import { dumpTables, useMigratedDatabase } from '../testing/index.js';
import { createAndLockAgents } from './batch.js';
import { flushLastSeen } from './last-seen.js';

const h = useMigratedDatabase({ max: 3, truncateEach: false });

describe('createAndLockAgents', () => {
  it('creates missing agents offline and locks existing ones without writing them', async () => {
    await flushLastSeen(h.db, ['existing'], [Date.UTC(2026, 0, 1)]);
    const before = await dumpTables(h.db, { physical: true });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const tx = h.db.transaction(async (t) => {
      expect(await createAndLockAgents(t, ['new', 'existing', 'new'])).toBe(1);
      locked();
      await held;
    });
    await isLocked;
    // Another session cannot lock the existing row while the transaction is open.
    await expect(h.sql`select id from agents where id = 'existing' for update nowait`).rejects.toMatchObject({
      code: '55P03',
    });
    release();
    await tx;
    const after = await dumpTables(h.db, { physical: true });
    expect(after.agents.find((a) => a.id === 'existing')).toEqual(before.agents[0]);
    expect(after.agents.find((a) => a.id === 'new')).toMatchObject({
      status: 'offline',
      connection_epoch: '0',
    });
    expect(await createAndLockAgents(h.db, [])).toBe(0);
  });
});
