import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from './deadline-queue.js';

describe('DeadlineQueue', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires every item once, in order, not before its deadline', () => {
    vi.useFakeTimers();
    const expired: string[] = [];
    const q = new DeadlineQueue<string>(1000, (item) => expired.push(item), performance);
    q.add('a');
    vi.advanceTimersByTime(400);
    q.add('b');
    vi.advanceTimersByTime(599);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
    expect(q.size).toBe(1);
    vi.advanceTimersByTime(400);
    expect(expired).toEqual(['a', 'b']);
    expect(q.size).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual(['a', 'b']);
  });

  it('arms again after running empty, and handles many items with one timer', () => {
    vi.useFakeTimers();
    const expired: number[] = [];
    const q = new DeadlineQueue<number>(100, (item) => expired.push(item), performance);
    q.add(0);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([0]);
    for (let i = 1; i <= 5000; i++) {
      q.add(i);
      if (i % 100 === 0) vi.advanceTimersByTime(1);
    }
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(200);
    expect(expired).toHaveLength(5001);
    expect(expired).toEqual([...expired].sort((a, b) => a - b));
    expect(vi.getTimerCount()).toBe(0);
  });
});
