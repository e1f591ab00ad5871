/** Groups a failed WebSocket dial into a short, countable kind: `http-503`, `ECONNREFUSED`, `handshake-timeout`, ... */
export function classifyDialError(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown';
  const status = /^Unexpected server response: (\d{3})/.exec(error.message);
  if (status) return `http-${status[1]}`;
  if (/handshake has timed out/i.test(error.message)) return 'handshake-timeout';
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code !== '') return code;
  return 'other';
}

/** Adds one occurrence of `kind` to a tally. */
export function tally(counts: Record<string, number>, kind: string, by = 1): void {
  counts[kind] = (counts[kind] ?? 0) + by;
}

/** Sums several tallies into a new one. */
export function mergeTallies(tallies: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const counts of tallies) for (const [kind, n] of Object.entries(counts)) tally(merged, kind, n);
  return merged;
}
