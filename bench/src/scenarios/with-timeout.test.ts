import { describe, expect, it } from 'vitest';
import { StepTimeoutError, withTimeout } from './with-timeout.js';

describe('withTimeout', () => {
  it('passes the value of a promise that settles in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000, 'x')).rejects.toThrow('boom');
  });

  it('rejects with a StepTimeoutError naming the step when it does not', async () => {
    const never = new Promise<never>(() => {});
    await expect(withTimeout(never, 1, 'reading the lag')).rejects.toThrow(StepTimeoutError);
    await expect(withTimeout(never, 1, 'reading the lag')).rejects.toThrow(
      'reading the lag did not finish within 1 ms',
    );
  });
});
