/**
 * Wraps `log` so that it runs at most once per `intervalMs` (on a monotonic clock) and is told how
 * many calls it suppressed since its last run: a failure repeated every tick logs once in a while.
 */
export function throttle<A extends unknown[]>(
  intervalMs: number,
  log: (suppressed: number, ...args: A) => void,
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
    log(suppressed, ...args);
    suppressed = 0;
  };
}
