import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toEpoch } from './connection-registry.js';
import { PresenceDataError } from './errors.js';

const source = (name: string) => readFileSync(new URL(`../lua/${name}.lua`, import.meta.url), 'utf8');
const nextEpoch = (text: string) => /-- BEGIN next_epoch[\s\S]*-- END next_epoch/.exec(text)?.[0];

describe('Lua scripts', () => {
  it('share one definition of next_epoch', () => {
    const claim = nextEpoch(source('claim'));
    expect(claim).toContain('INCR');
    expect(nextEpoch(source('reannounce'))).toBe(claim);
    expect(nextEpoch(source('advance'))).toBe(claim);
  });
});

describe('toEpoch', () => {
  it('accepts positive safe integers as numbers or strings, and nothing else', () => {
    expect(toEpoch(7)).toBe(7);
    expect(toEpoch('1730000000000001')).toBe(1_730_000_000_000_001);
    for (const bad of [0, -1, 1.5, '2e16', 'x', null, 2 ** 53]) {
      expect(() => toEpoch(bad)).toThrow(PresenceDataError);
    }
  });
});
