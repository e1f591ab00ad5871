import { describe, expect, it } from 'vitest';
import { decodeIdCursor, decodeTimeCursor, decodeTransitionCursor, encodeCursor } from './cursor.js';
import { ApiError } from './errors.js';

const rejects = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ statusCode: 400, code: 'invalid_cursor' });
    return;
  }
  throw new Error('expected an invalid_cursor error');
};

describe('cursors', () => {
  it('round-trip positions as opaque base64url', () => {
    const c = encodeCursor('offline', [1_767_225_600_123_456, 'agent-1']);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeTimeCursor('offline', c)).toEqual({ us: 1_767_225_600_123_456, id: 'agent-1' });
    expect(decodeTimeCursor('history', encodeCursor('history', [null, 'c1']))).toEqual({
      us: null,
      id: 'c1',
    });
    expect(decodeIdCursor(encodeCursor('agents', ['a']))).toBe('a');
    expect(decodeTransitionCursor(encodeCursor('transitions', [5, 7]))).toEqual({ us: 5, id: 7 });
  });

  it('refuse a cursor of another listing or a malformed one', () => {
    rejects(() => decodeTimeCursor('history', encodeCursor('offline', [1, 'a'])));
    rejects(() => decodeIdCursor('not json'));
    rejects(() => decodeIdCursor(Buffer.from('{"a":1}').toString('base64url')));
    rejects(() => decodeIdCursor(encodeCursor('agents', [''])));
    rejects(() => decodeIdCursor(encodeCursor('agents', ['a', 'b'])));
    rejects(() => decodeTimeCursor('offline', encodeCursor('offline', [1.5, 'a'])));
    rejects(() => decodeTimeCursor('offline', encodeCursor('offline', [1, 'x'.repeat(300)])));
    rejects(() => decodeTransitionCursor(encodeCursor('transitions', [null, 7])));
    rejects(() => decodeTransitionCursor(encodeCursor('transitions', [1, -1])));
  });
});
