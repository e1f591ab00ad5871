/**
 * `isoTime(ms)`: the same string as `new Date(ms).toISOString()`, several times faster. A page of
 * 100 agents formats ~600 times; V8's toISOString (~1 µs each) was the largest cost of building it.
 * The date part is cached per UTC day (a small, bounded cache); times outside years 0000..9999
 * (where toISOString switches to its extended form) and non-integer ms fall back to toISOString.
 */

const DAY_MS = 86_400_000;
/** toISOString's plain `YYYY-` form covers [0000-01-01, 10000-01-01). */
const MIN_MS = -62_167_219_200_000;
const MAX_MS = 253_402_300_800_000;
const MAX_CACHED_DAYS = 4096;

const dayPrefixes = new Map<number, string>();

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** `YYYY-MM-DDT` of a UTC day number. */
function dayPrefix(day: number): string {
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    if (dayPrefixes.size >= MAX_CACHED_DAYS) dayPrefixes.clear();
    dayPrefixes.set(day, prefix);
  }
  return prefix;
}

export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < MIN_MS || ms >= MAX_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  let rest = ms - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${dayPrefix(day)}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(rest - seconds * 1000)}Z`;
}

/** {@link isoTime} of a Date, or null. */
export function isoDate(d: Date | null | undefined): string | null {
  return d ? isoTime(d.getTime()) : null;
}
