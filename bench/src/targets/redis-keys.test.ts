import { describe, expect, it } from 'vitest';
import { scanPatternForPrefix } from './redis-keys.js';

describe('scanPatternForPrefix', () => {
  it('appends a wildcard', () => {
    expect(scanPatternForPrefix('bench-1:')).toBe('bench-1:*');
  });

  it('escapes glob characters so the prefix matches literally', () => {
    expect(scanPatternForPrefix('a*b?c[d]e\\f:')).toBe('a\\*b\\?c\\[d\\]e\\\\f:*');
  });
});
