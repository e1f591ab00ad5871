import { describe, expect, it } from 'vitest';
import { bearerToken, createTokenCheck } from './auth.js';

describe('bearer auth', () => {
  it('parses the Authorization header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });

  it('accepts exactly the configured tokens, of any length', () => {
    const check = createTokenCheck(['alpha', 'a-much-longer-token-value']);
    expect(check('alpha')).toBe(true);
    expect(check('a-much-longer-token-value')).toBe(true);
    expect(check('alph')).toBe(false);
    expect(check('alphaa')).toBe(false);
    expect(check('')).toBe(false);
    expect(createTokenCheck([])('alpha')).toBe(false);
  });
});
