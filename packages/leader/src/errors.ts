/**
 * A fenced write found that this holder no longer holds the lease (another holder took it over, it
 * expired, or it was released), so it wrote nothing. Raised by callers that check the fence's value.
 */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(
    readonly leaseName: string,
    readonly token: number,
  ) {
    super(`lease ${leaseName} is no longer held with token ${token}; nothing was written`);
  }
}

/** An option passed to a factory of this package is missing or out of range. The message names it. */
export class LeaseOptionError extends Error {
  override readonly name = 'LeaseOptionError';
}

export function checkInt(option: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new LeaseOptionError(`${option} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

export function checkText(option: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new LeaseOptionError(`${option} must be a string of 1..200 characters`);
  }
  return value;
}
