import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventually } from './eventually.js';

describe('eventually', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns the first passing result', async () => {
    let calls = 0;
    const value = await eventually(() => {
      calls++;
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(calls).toBe(1);
  });

  it('retries until the assertion passes', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const p = eventually(
      async () => {
        calls++;
        if (calls < 3) throw new Error(`not yet ${calls}`);
        return calls;
      },
      { timeoutMs: 1000, intervalMs: 10 },
    );
    await vi.advanceTimersByTimeAsync(30);
    await expect(p).resolves.toBe(3);
  });

  it('throws the last error after the timeout', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const p = eventually(
      () => {
        calls++;
        throw new Error(`attempt ${calls}`);
      },
      { timeoutMs: 100, intervalMs: 25 },
    );
    const settled = expect(p).rejects.toThrow(/^attempt \d+$/);
    await vi.advanceTimersByTimeAsync(200);
    await settled;
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(calls).toBeLessThanOrEqual(5);
  });
});
