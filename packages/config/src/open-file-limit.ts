import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** File descriptors kept free for Redis connections, logs, the ops port and HTTP keep-alive sockets. */
export const MIN_FD_HEADROOM = 256;

/**
 * Parses the "Max open files" soft limit from the text of /proc/self/limits.
 * Returns null when the line is missing or the limit is "unlimited".
 */
export function parseOpenFileSoftLimit(limitsText: string): number | null {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined || !/^\d+$/.test(soft)) return null;
  return Number(soft);
}

/**
 * Reads this process's open-file soft limit: /proc/self/limits where it exists, else `ulimit -n` in a
 * shell (which inherits the limit). Returns null when neither works or the limit is unlimited.
 */
export function readOpenFileSoftLimit(): number | null {
  try {
    return parseOpenFileSoftLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    try {
      const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 }).trim();
      return /^\d+$/.test(out) ? Number(out) : null;
    } catch {
      return null;
    }
  }
}

/**
 * A connection cap safely below the open-file limit: every held socket is one descriptor, and at the
 * limit uWebSockets.js spins in an EMFILE accept loop. Keeps max(256, 2 %) of the limit free.
 */
export function connectionCapForFileLimit(openFileLimit: number): number {
  const headroom = Math.max(MIN_FD_HEADROOM, Math.ceil(openFileLimit * 0.02));
  return Math.max(1, openFileLimit - headroom);
}
