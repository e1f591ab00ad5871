import { describe, expect, it } from 'vitest';
import { throttle } from './throttle.js';

describe('throttle', () => {
  it('runs at most once per interval and reports what it suppressed', () => {
    let t = 0;
    const calls: [number, string][] = [];
    const log = throttle(
      1000,
      (suppressed: number, msg: string) => calls.push([suppressed, msg]),
      () => t,
    );
    log('a');
    t = 500;
    log('b');
    log('c');
    t = 1000;
    log('d');
    expect(calls).toEqual([
      [0, 'a'],
      [2, 'd'],
    ]);
  });
});
