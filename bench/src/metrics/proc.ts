import { readFile } from 'node:fs/promises';

/** Linux reports utime/stime in clock ticks of USER_HZ, which is 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

export class ProcReadError extends Error {
  override readonly name = 'ProcReadError';
}

/** Extracts VmRSS (in bytes) from the text of /proc/<pid>/status. */
export function parseVmRssBytes(statusText: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(statusText);
  if (!match) throw new ProcReadError('VmRSS line not found in /proc status');
  return Number(match[1]) * 1024;
}

/** Extracts user+system CPU time (in seconds) from the text of /proc/<pid>/stat. */
export function parseCpuSeconds(statText: string): number {
  // The command name (field 2) is parenthesised and may contain spaces: split after its closing paren.
  const afterComm = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime), counted from 1; afterComm starts at field 3.
  const utime = Number(afterComm[11]);
  const stime = Number(afterComm[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new ProcReadError('malformed /proc stat line');
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** Extracts the soft and hard "Max open files" limits from the text of /proc/<pid>/limits. */
export function parseOpenFileLimits(limitsText: string): { soft: number; hard: number } {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limitsText);
  if (!match) throw new ProcReadError('"Max open files" line not found in /proc limits');
  const toNumber = (value: string): number =>
    value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value);
  return { soft: toNumber(match[1] as string), hard: toNumber(match[2] as string) };
}

/** Resident set size of a process in bytes. */
export async function readRssBytes(pid: number | 'self'): Promise<number> {
  return parseVmRssBytes(await readFile(`/proc/${pid}/status`, 'utf8'));
}

/** CPU time (user + system) a process has used so far, in seconds. */
export async function readCpuSeconds(pid: number | 'self'): Promise<number> {
  return parseCpuSeconds(await readFile(`/proc/${pid}/stat`, 'utf8'));
}

/** Open-file limits of the calling process. */
export async function readOpenFileLimits(): Promise<{ soft: number; hard: number }> {
  return parseOpenFileLimits(await readFile('/proc/self/limits', 'utf8'));
}
