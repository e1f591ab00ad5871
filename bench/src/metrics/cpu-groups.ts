import { readFile } from 'node:fs/promises';
import { readCpuSeconds } from './proc.js';

/** CPU seconds used so far by each readable process of `pids` (gone or foreign ones are left out). */
export async function readCpuOf(pids: readonly number[]): Promise<Map<number, number>> {
  const entries = await Promise.all(
    pids.map(async (pid) => {
      try {
        return [pid, await readCpuSeconds(pid)] as const;
      } catch {
        return null;
      }
    }),
  );
  return new Map(entries.filter((e): e is readonly [number, number] => e !== null));
}

/**
 * CPU a group of processes used between two readings: for each process of `after`, its CPU minus
 * its CPU in `before` (all of it when it started in between). Processes gone by `after` are left
 * out (their last interval is lost). Null when no process was read at the end.
 */
export function cpuDelta(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): { processes: number; cpuSeconds: number } | null {
  if (after.size === 0) return null;
  let cpuSeconds = 0;
  for (const [pid, cpu] of after) cpuSeconds += Math.max(0, cpu - (before.get(pid) ?? 0));
  return { processes: after.size, cpuSeconds };
}

/** `process_id` from the text of Redis `INFO server`, or null. */
export function parseRedisProcessId(info: string): number | null {
  const match = /^process_id:(\d+)\r?$/m.exec(info);
  return match ? Number(match[1]) : null;
}

/** The command name of a local process (/proc/<pid>/comm), or null when it cannot be read. */
export async function processName(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return null;
  }
}

/**
 * `pids` that are local processes whose command name starts with `prefix` (a Redis or Postgres of
 * another host or container may report a pid that means something else here).
 */
export async function localProcessesNamed(pids: readonly number[], prefix: string): Promise<number[]> {
  const names = await Promise.all(pids.map((pid) => processName(pid)));
  return pids.filter((_, i) => names[i]?.startsWith(prefix) === true);
}
