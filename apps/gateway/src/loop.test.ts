import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeriodicTask, throttled } from './loop.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('PeriodicTask', () => {
  it('runs on its interval without overlapping, reports failures, and stops', async () => {
    vi.useFakeTimers();
    let runs = 0;
    const errors: unknown[] = [];
    const task = new PeriodicTask(
      100,
      async () => {
        runs += 1;
        if (runs === 2) throw new Error('boom');
      },
      (err) => errors.push(err),
    );
    task.start();
    task.start();
    await vi.advanceTimersByTimeAsync(350);
    expect(runs).toBe(3);
    expect(errors).toHaveLength(1);
    await task.stop();
    await vi.advanceTimersByTimeAsync(500);
    expect(runs).toBe(3);
  });

  it('joins a run in progress', async () => {
    let release!: () => void;
    let runs = 0;
    const task = new PeriodicTask(
      1000,
      () => {
        runs += 1;
        return new Promise<void>((r) => {
          release = r;
        });
      },
      () => {},
    );
    const a = task.runOnce();
    const b = task.runOnce();
    release();
    await Promise.all([a, b]);
    expect(runs).toBe(1);
  });
});

describe('throttled', () => {
  it('calls at most once per interval and reports what it suppressed', () => {
    let t = 0;
    const calls: Array<[number, string]> = [];
    const log = throttled(
      1000,
      (suppressed: number, msg: string) => calls.push([suppressed, msg]),
      () => t,
    );
    log('a');
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
