import { describe, expect, it } from 'vitest';
import { runUpdateBaseline } from './update-baseline.js';

describe('runUpdateBaseline', () => {
  it('writes the table in chunks, pass after pass with later times, until the time is up', async () => {
    let now = 0;
    const calls: Array<{ ids: string[]; at: number[] }> = [];
    const result = await runUpdateBaseline(
      'fake',
      async (ids, at) => {
        calls.push({ ids, at });
        now += 100; // each statement takes 100 ms
        return ids.length;
      },
      { ids: ['a', 'b', 'c', 'd', 'e'], chunkSize: 2, durationMs: 650, now: () => now, startEpochMs: 5000 },
    );
    expect(calls.map((c) => c.ids)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e'],
      ['a', 'b'],
      ['c', 'd'],
      ['e'],
      ['a', 'b'],
    ]);
    expect(calls.map((c) => c.at[0])).toEqual([5000, 5000, 5000, 6000, 6000, 6000, 7000]);
    expect(result).toMatchObject({ statement: 'fake', statements: 7, rows: 12, seconds: 0.7 });
    expect(result.rowsPerSecond).toBeCloseTo(12 / 0.7);
    expect(result.statementMs).toMatchObject({ count: 7, p50: 100, max: 100 });
  });

  it('does nothing for an empty table', async () => {
    const result = await runUpdateBaseline('fake', async () => 1, {
      ids: [],
      chunkSize: 10,
      durationMs: 1000,
      now: () => 0,
      startEpochMs: 0,
    });
    expect(result).toMatchObject({ statements: 0, rows: 0, rowsPerSecond: null });
  });
});
