import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { DbOptionError } from '../errors.js';
import { planLimit } from './api-rows.js';

const text = (n: number) => new PgDialect().sqlToQuery(planLimit(n));

describe('planLimit', () => {
  it('writes the limit into the text, rounded up to three significant bits', () => {
    expect(text(1)).toEqual({ sql: '1', params: [] });
    expect([15, 16, 17, 101, 128, 129, 1001, 10_000].map((n) => text(n).sql)).toEqual([
      '15',
      '16',
      '18',
      '104',
      '128',
      '144',
      '1024',
      '10240',
    ]);
  });

  it('never reads fewer rows, at most 12.5 % more, and has few distinct values', () => {
    const seen = new Set<string>();
    for (let n = 1; n <= 10_000; n++) {
      const v = Number(text(n).sql);
      expect(v).toBeGreaterThanOrEqual(n);
      expect(v).toBeLessThanOrEqual(Math.ceil(n * 1.125));
      seen.add(String(v));
    }
    expect(seen.size).toBeLessThan(100);
  });

  it('refuses what is not a page size', () => {
    for (const bad of [0, -1, 1.5, 10_001, Number.NaN]) expect(() => planLimit(bad)).toThrow(DbOptionError);
  });
});
