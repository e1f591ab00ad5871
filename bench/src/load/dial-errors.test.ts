import { describe, expect, it } from 'vitest';
import { classifyDialError, mergeTallies, tally } from './dial-errors.js';

function errno(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyDialError', () => {
  it.each([
    [new Error('Unexpected server response: 503'), 'http-503'],
    [new Error('Unexpected server response: 401'), 'http-401'],
    [new Error('Opening handshake has timed out'), 'handshake-timeout'],
    [errno('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'), 'ECONNREFUSED'],
    [errno('socket hang up', 'ECONNRESET'), 'ECONNRESET'],
    [new Error('something else'), 'other'],
    ['not an error', 'unknown'],
  ])('%s -> %s', (error, kind) => {
    expect(classifyDialError(error)).toBe(kind);
  });
});

describe('tallies', () => {
  it('counts and merges', () => {
    const a: Record<string, number> = {};
    tally(a, 'x');
    tally(a, 'x');
    tally(a, 'y', 3);
    expect(a).toEqual({ x: 2, y: 3 });
    expect(mergeTallies([a, { x: 1, z: 1 }, {}])).toEqual({ x: 3, y: 3, z: 1 });
  });
});
