import { describe, expect, it } from 'vitest';
import { collectPage } from './page.js';

const rows = Array.from({ length: 10 }, (_, i) => i + 1);
const fetcher = () => {
  const reads: [number | null, number][] = [];
  return {
    reads,
    fetch: async (after: number | null, n: number) => {
      reads.push([after, n]);
      return rows.filter((r) => after === null || r > after).slice(0, n);
    },
  };
};

describe('collectPage', () => {
  it('reads one row ahead to tell the last page', async () => {
    const f = fetcher();
    const opts = { fetch: f.fetch, keep: async (r: number[]) => r, key: (r: number) => r };
    expect(await collectPage({ ...opts, limit: 4, after: null })).toEqual({ items: [1, 2, 3, 4], next: 4 });
    expect(await collectPage({ ...opts, limit: 6, after: 4 })).toEqual({
      items: [5, 6, 7, 8, 9, 10],
      next: null,
    });
    expect(await collectPage({ ...opts, limit: 5, after: 10 })).toEqual({ items: [], next: null });
    expect(f.reads).toEqual([
      [null, 5],
      [4, 7],
      [10, 6],
    ]);
  });

  it('refills a page that lost rows, up to maxReads, without skipping any', async () => {
    const f = fetcher();
    const odd = {
      fetch: f.fetch,
      keep: async (r: number[]) => r.filter((x) => x % 2 === 1),
      key: (r: number) => r,
    };
    expect(await collectPage({ ...odd, limit: 3, after: null })).toEqual({ items: [1, 3, 5], next: 5 });
    expect(await collectPage({ ...odd, limit: 4, after: null, maxReads: 1 })).toEqual({
      items: [1, 3],
      next: 4,
    });
    const none = { ...odd, keep: async () => [] as number[] };
    expect(await collectPage({ ...none, limit: 2, after: null, maxReads: 2 })).toEqual({
      items: [],
      next: 4,
    });
  });
});
