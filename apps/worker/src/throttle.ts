/**
 * Calls `fn` at most once per `intervalMs` (on a monotonic clock), passing how many calls it
 * suppressed since the previous one. For logging repeated failures (a Redis or Postgres outage).
 */
export function throttle<A extends unknown[]>(
  intervalMs: number,
  fn: (suppressed: number, ...args: A) => void,
  now: () => number = () => performance.now(),
): (...args: A) => void {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (...args: A) => {
    const t = now();
    if (t - last < intervalMs) {
      suppressed += 1;
      return;
    }
    last = t;
    const n = suppressed;
    suppressed = 0;
    fn(n, ...args);
  };
}
