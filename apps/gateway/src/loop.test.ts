import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeriodicTask } from './loop.js';

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
