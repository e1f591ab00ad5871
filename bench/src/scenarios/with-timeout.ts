/** A step of a run that did not finish in time (a hung connection, a stuck server). */
export class StepTimeoutError extends Error {
  override readonly name = 'StepTimeoutError';
}

/** `promise`, or a StepTimeoutError naming `step` after `ms`; the timer never keeps the process alive. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepTimeoutError(`${step} did not finish within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
