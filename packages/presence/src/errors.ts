/** An option passed to a presence factory is missing or out of range. The message names the option. */
export class PresenceOptionError extends Error {
  override readonly name = 'PresenceOptionError';
}

/** A value read from Redis does not have the shape this package writes (corrupt or foreign data). */
export class PresenceDataError extends Error {
  override readonly name = 'PresenceDataError';
}

/** A gateway command received on the bus failed validation. `raw` is the payload as received. */
export class InvalidCommandError extends Error {
  override readonly name = 'InvalidCommandError';
  constructor(
    message: string,
    readonly raw: string,
  ) {
    super(message);
  }
}

/** Throws a {@link PresenceOptionError} unless `value` is an integer within [min, max]. */
export function checkInt(option: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new PresenceOptionError(`${option} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** An operation was called in a state that does not allow it (a closed bus, a duplicate handler). */
export class PresenceStateError extends Error {
  override readonly name = 'PresenceStateError';
}
