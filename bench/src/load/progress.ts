import type { FleetCounters } from './types.js';

/** One progress line: `[gateway  12s] connected 5234/10000  msgs/s 2000  errors 0`. */
export function formatProgress(
  label: string,
  elapsedMs: number,
  now: FleetCounters,
  previous: FleetCounters,
  intervalMs: number,
): string {
  const perSecond = intervalMs > 0 ? Math.round(((now.received - previous.received) * 1000) / intervalMs) : 0;
  const seconds = Math.floor(elapsedMs / 1000);
  return `[${label} ${String(seconds).padStart(3)}s] connected ${now.connected}/${now.requested}  msgs/s ${perSecond}  errors ${now.errors}`;
}

/** Writes a progress line for `read()` to `write` every `intervalMs` until the returned stop function runs. */
export function startProgress(
  label: string,
  read: () => FleetCounters,
  write: (line: string) => void,
  intervalMs = 1000,
): () => void {
  const started = Date.now();
  let previous = read();
  let last = started;
  const timer = setInterval(() => {
    const now = read();
    const at = Date.now();
    write(formatProgress(label, at - started, now, previous, at - last));
    previous = now;
    last = at;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
