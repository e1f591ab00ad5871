/** An option passed to a factory of this package is missing or out of range. The message names it. */
export class QueueOptionError extends Error {
  override readonly name = 'QueueOptionError';
}

/**
 * Thrown by a job handler when retrying the job cannot succeed (a malformed payload, a row the
 * database rejects for its content). The job goes to the failed set at once instead of retrying.
 */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A Redis call (an add of event batches) got no answer in time; it may still have taken effect. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** A worker's running jobs did not finish within its close timeout. */
export class CloseTimeoutError extends Error {
  override readonly name = 'CloseTimeoutError';
}

/** Throws a {@link QueueOptionError} unless `value` is an integer within [min, max]. */
export function checkInt(option: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new QueueOptionError(`${option} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}
