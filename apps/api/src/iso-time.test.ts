import { describe, expect, it } from 'vitest';
import { isoDate, isoTime } from './iso-time.js';

describe('isoTime', () => {
  it('formats exactly as toISOString', () => {
    const edges = [
      0, -1, 1, 999, 1000, 59_999, 86_399_999, 86_400_000, -86_400_000, 951_782_400_000 /* 2000-02-29 */,
      4_107_542_399_999 /* 2100-02-28 end */, -62_167_219_200_000 /* 0000-01-01 */,
      253_402_300_799_999 /* 9999-12-31 end */,
    ];
    let x = 123_456_789;
    const random = Array.from({ length: 5000 }, () => {
      x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((x / 2 ** 31) * 2 * 253_402_300_799_999) - 253_402_300_799_999;
    });
    for (const ms of [...edges, ...random, Date.now()]) {
      if (ms < -62_167_219_200_000) continue; // covered by the fallback test
      expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('falls back to toISOString outside years 0000..9999 and for fractional ms', () => {
    for (const ms of [253_402_300_800_000, -62_167_219_200_001, 1.5, 8.64e15]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    expect(isoTime(253_402_300_800_000)).toBe('+010000-01-01T00:00:00.000Z');
  });

  it('formats Dates and passes null through', () => {
    expect(isoDate(new Date(1_700_000_000_123))).toBe('2023-11-14T22:13:20.123Z');
    expect(isoDate(null)).toBeNull();
    expect(isoDate(undefined)).toBeNull();
  });
});
