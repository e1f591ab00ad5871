import { describe, expect, it } from 'vitest';
import { InvalidBatchError } from '../errors.js';
import { dumpTables, opened, useMigratedDatabase } from '../testing/index.js';
import { applyConnectionEvents } from './connection-events.js';
import { flushLastSeen } from './last-seen.js';
import { getAgent } from './reads.js';

const h = useMigratedDatabase({ max: 2 });

const T0 = Date.UTC(2026, 0, 1);

describe('flushLastSeen', () => {
  it('moves last_seen_at forward only and reports the rows it wrote', async () => {
    await applyConnectionEvents(h.db, [opened('c1', 1)]);
    expect(await flushLastSeen(h.db, ['agent-1'], [T0 + 5_000])).toBe(1);
    expect(await flushLastSeen(h.db, ['agent-1'], [T0 + 1_000])).toBe(0);
    expect((await getAgent(h.db, 'agent-1'))?.lastSeenAt).toEqual(new Date(T0 + 5_000));

    const before = await dumpTables(h.db, { physical: true });
    expect(await flushLastSeen(h.db, ['agent-1'], [T0 + 5_000])).toBe(0);
    expect(await dumpTables(h.db, { physical: true })).toEqual(before);

    expect(await flushLastSeen(h.db, ['agent-1'], [T0 + 5_000.25])).toBe(1);
    expect((await getAgent(h.db, 'agent-1'))?.status).toBe('online');
  });

  it('creates rows for ids seen only by presence, offline, and takes the latest time of a repeated id', async () => {
    expect(await flushLastSeen(h.db, ['new-1', 'new-2', 'new-1'], [T0 + 2, T0 + 1, T0 + 3])).toBe(2);
    expect(await getAgent(h.db, 'new-1')).toMatchObject({
      status: 'offline',
      lastSeenAt: new Date(T0 + 3),
      statusChangedAt: null,
      connectionEpoch: 0,
    });
    // The connection event that follows brings it online, as the agent's first transition.
    await applyConnectionEvents(h.db, [opened('c1', 1, { agentId: 'new-1' })]);
    expect(await getAgent(h.db, 'new-1')).toMatchObject({ status: 'online', lastSeenAt: new Date(T0 + 3) });
  });

  it('rejects mismatched or malformed input and returns 0 for nothing', async () => {
    await expect(flushLastSeen(h.db, ['a'], [])).rejects.toBeInstanceOf(InvalidBatchError);
    await expect(flushLastSeen(h.db, ['a', ''], [1, 2])).rejects.toMatchObject({ index: 1 });
    await expect(flushLastSeen(h.db, ['a'], [Number.NaN])).rejects.toMatchObject({
      name: 'InvalidBatchError',
    });
    expect(await flushLastSeen(h.db, [], [])).toBe(0);
  });

  it('flushes 10,000 ids in one call', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `agent-${i}`);
    const t1 = ids.map((_, i) => T0 + i);
    let started = performance.now();
    expect(await flushLastSeen(h.db, ids, t1)).toBe(10_000);
    const insertMs = performance.now() - started;

    started = performance.now();
    expect(
      await flushLastSeen(
        h.db,
        ids,
        t1.map((t) => t + 30_000),
      ),
    ).toBe(10_000);
    const updateMs = performance.now() - started;

    started = performance.now();
    expect(await flushLastSeen(h.db, ids, t1)).toBe(0);
    const staleMs = performance.now() - started;
    // Informational only: timings on a shared machine are not asserted.
    console.info(
      `flushLastSeen 10k ids: insert ${insertMs.toFixed(0)} ms, update ${updateMs.toFixed(0)} ms, stale ${staleMs.toFixed(0)} ms`,
    );
    expect((await getAgent(h.db, 'agent-9999'))?.lastSeenAt).toEqual(new Date(T0 + 9_999 + 30_000));
  });
});
