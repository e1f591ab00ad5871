import { describe, expect, it } from 'vitest';
import { toEpoch } from './connection-registry.js';
import { PresenceDataError } from './errors.js';
import { luaSource } from './lua-script.js';

describe('Lua scripts', () => {
  it('get the shared next_epoch pasted in where they include it, once', () => {
    for (const name of ['claim', 'reannounce', 'advance', 'open-http'] as const) {
      const text = luaSource(name);
      expect(text).not.toContain('#include');
      expect(text.match(/local function next_epoch\(key\)/g)).toHaveLength(1);
      expect(text).toContain("redis.call('INCR', key)");
    }
    expect(luaSource('touch')).not.toContain('next_epoch');
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
