import Long from 'long';
import { describe, expect, it } from 'vitest';
import { AgentCapabilities, hasCapability } from './constants.js';
import { uint64ToBitmask, uint64ToCounter } from './uint64.js';

describe('uint64 normalisation', () => {
  it.each([
    ['0', 0],
    ['4294967296', 2 ** 32],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ['9007199254740992', Number.MAX_SAFE_INTEGER],
    ['18446744073709551615', Number.MAX_SAFE_INTEGER],
  ])('counter %s (Long) -> %d', (text, expected) => {
    expect(uint64ToCounter(Long.fromString(text, true))).toBe(expected);
  });

  it.each([
    ['8193', 8193],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ['9007199254740992', 0], // bit 53 dropped
    ['18446744073709551615', Number.MAX_SAFE_INTEGER],
  ])('bitmask %s (Long) -> low 53 bits %d', (text, expected) => {
    expect(uint64ToBitmask(Long.fromString(text, true))).toBe(expected);
  });

  it('handles numbers (protobufjs without long.js)', () => {
    expect(uint64ToCounter(42)).toBe(42);
    expect(uint64ToCounter(2 ** 60)).toBe(Number.MAX_SAFE_INTEGER);
    expect(uint64ToBitmask(8193)).toBe(8193);
    expect(uint64ToBitmask(2 ** 53 + 2)).toBe(2);
  });
});

describe('hasCapability', () => {
  it('tests single bits and combinations', () => {
    expect(hasCapability(0x2001, AgentCapabilities.ReportsHeartbeat)).toBe(true);
    expect(hasCapability(0x2001, AgentCapabilities.AcceptsRemoteConfig)).toBe(false);
    expect(
      hasCapability(0x3003, AgentCapabilities.AcceptsRemoteConfig | AgentCapabilities.ReportsRemoteConfig),
    ).toBe(true);
    expect(
      hasCapability(0x2003, AgentCapabilities.AcceptsRemoteConfig | AgentCapabilities.ReportsRemoteConfig),
    ).toBe(false);
    expect(hasCapability(0x2001, 0)).toBe(false);
  });

  it('ignores mask bits above 31', () => {
    expect(hasCapability(2 ** 40 + 0x100, AgentCapabilities.AcceptsOpAMPConnectionSettings)).toBe(true);
    expect(hasCapability(2 ** 40, AgentCapabilities.ReportsStatus)).toBe(false);
  });
});
