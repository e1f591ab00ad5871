export interface EventuallyOptions {
  /** Give up after this long. Default 5000. */
  timeoutMs?: number;
  /** Wait between attempts. Default 25. */
  intervalMs?: number;
}

/**
 * Runs `fn` until it resolves (returning its value) or `timeoutMs` has passed, then throws the error
 * of the last attempt. For integration and end-to-end tests that wait on real processes; attempts
 * never overlap, and at least one attempt runs.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() + intervalMs > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
