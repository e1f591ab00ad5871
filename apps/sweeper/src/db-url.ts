/**
 * `url` with `statement_timeout` and `lock_timeout` connection parameters of `timeoutMs` added
 * (postgres.js sends unknown URL parameters as session settings), unless the URL sets them. Every
 * fenced statement holds the lease row until it commits: the timeouts bound how long a stuck
 * statement can delay a successor's takeover.
 */
export function withSessionTimeouts(url: string, timeoutMs: number): string {
  const u = new URL(url);
  for (const name of ['statement_timeout', 'lock_timeout']) {
    if (!u.searchParams.has(name)) u.searchParams.set(name, String(timeoutMs));
  }
  return u.toString();
}
