/**
 * A batch handed to a repository function is malformed (a missing id, a non-integer epoch, arrays of
 * different lengths). Nothing was written. Retrying the same batch cannot succeed, so a worker should
 * treat it as unrecoverable. `index` is the position of the first offending element, when known.
 */
export class InvalidBatchError extends Error {
  override readonly name = 'InvalidBatchError';
  constructor(
    message: string,
    readonly index?: number,
  ) {
    super(message);
  }
}

/** An option passed to a factory of this package is missing or out of range. The message names it. */
export class DbOptionError extends Error {
  override readonly name = 'DbOptionError';
}

/** Throws a {@link DbOptionError} unless `value` is an integer within [min, max]. */
export function checkInt(option: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DbOptionError(`${option} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}
