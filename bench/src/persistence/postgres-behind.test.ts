import { describe, expect, it } from 'vitest';
import { behindSeconds } from './postgres-behind.js';

describe('behindSeconds', () => {
  it('is the Redis last-seen minus the Postgres one, never negative, skipping agents Postgres lacks', () => {
    const scores = [
      { id: 'a', score: 10_000 },
      { id: 'b', score: 10_000 },
      { id: 'c', score: 10_000 },
      { id: 'd', score: 10_000 },
    ];
    const pg = new Map<string, number | null>([
      ['a', 7_500],
      ['b', 10_000],
      ['c', 10_200], // moved on between the two reads
      ['d', null],
    ]);
    expect(behindSeconds(scores, pg)).toEqual([2.5, 0, 0]);
  });
});
