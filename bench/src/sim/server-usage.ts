/**
 * CPU and RSS of server processes by role over a window: `snapshotUsage` before, `usageSince`
 * after. CPU is in % of one core summed over the role's processes; a process gone by the end
 * (restarted) counts up to its last reading.
 */
import { readCpuSeconds, readRssBytes } from '../metrics/proc.js';

export type UsageSnapshot = Map<number, number>;

export interface RoleUsage {
  processes: number;
  cpuPercent: number;
  rssBytes: number;
}

async function cpuOf(pid: number): Promise<number | null> {
  return readCpuSeconds(pid).catch(() => null);
}

export async function snapshotUsage(pids: readonly number[]): Promise<UsageSnapshot> {
  const snapshot: UsageSnapshot = new Map();
  for (const pid of pids) {
    const cpu = await cpuOf(pid);
    if (cpu !== null) snapshot.set(pid, cpu);
  }
  return snapshot;
}

export async function usageSince(
  before: UsageSnapshot,
  pids: readonly number[],
  seconds: number,
): Promise<RoleUsage> {
  let cpu = 0;
  let rss = 0;
  for (const pid of pids) {
    const now = await cpuOf(pid);
    if (now === null) continue;
    cpu += now - (before.get(pid) ?? now);
    rss += await readRssBytes(pid).catch(() => 0);
  }
  return {
    processes: pids.length,
    cpuPercent: seconds > 0 ? Math.round((cpu / seconds) * 1000) / 10 : 0,
    rssBytes: rss,
  };
}
