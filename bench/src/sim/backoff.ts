/**
 * Reconnect backoff of a simulated agent, as the OpAMP spec recommends: the first retry right away,
 * then exponential delays with full jitter (uniform in [0, min(cap, base * 2^(n-1)))), reset once a
 * connection works. A server's Retry-After wins when it asks for a longer wait.
 */

export interface BackoffOptions {
  /** Ceiling of the first jittered delay (the second retry), ms. */
  baseMs: number;
  /** Largest ceiling, ms. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/** Delay (ms) before retry number `attempt` (0 = the first retry after a drop). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`bad attempt ${attempt}`);
  if (attempt === 0) return 0;
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt - 1, 30));
  return random() * ceiling;
}

/** Per-agent retry counter: `next()` gives the delay of the next retry, `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next retry; at least `retryAfterMs` when the server asked for one. */
  next(retryAfterMs: number | null = null): number {
    const delay = backoffDelay(this.attempt, this.options, this.random);
    this.attempt++;
    return retryAfterMs === null ? delay : Math.max(delay, retryAfterMs);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** An HTTP Retry-After header (delta seconds or an HTTP date) as ms from `nowMs`, null when absent/bad. */
export function parseRetryAfter(header: string | string[] | undefined, nowMs: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}
