import { describe, expect, it } from 'vitest';
import { withSessionTimeouts } from './db-url.js';

describe('withSessionTimeouts', () => {
  it('adds statement and lock timeouts, keeping credentials and other parameters', () => {
    const u = new URL(withSessionTimeouts('postgres://u:p%40ss@db:5432/opamp?sslmode=require', 5000));
    expect(u.username).toBe('u');
    expect(u.password).toBe('p%40ss');
    expect(u.pathname).toBe('/opamp');
    expect(u.searchParams.get('sslmode')).toBe('require');
    expect(u.searchParams.get('statement_timeout')).toBe('5000');
    expect(u.searchParams.get('lock_timeout')).toBe('5000');
  });

  it('leaves timeouts the URL sets', () => {
    const u = new URL(withSessionTimeouts('postgres://db/opamp?statement_timeout=100', 5000));
    expect(u.searchParams.get('statement_timeout')).toBe('100');
    expect(u.searchParams.get('lock_timeout')).toBe('5000');
  });
});
