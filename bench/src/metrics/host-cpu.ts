import { readFile } from 'node:fs/promises';
import { ProcReadError } from './proc.js';

/** The aggregate `cpu` line of /proc/stat, in clock ticks summed over all cores. */
export interface HostCpuTimes {
  /** user + nice + system + irq + softirq (guest time is already inside user and nice). */
  busy: number;
  /** idle + iowait */
  idle: number;
  /** Time the hypervisor ran something else while this VM wanted to run. */
  steal: number;
  total: number;
}

/** Parses the first (`cpu `) line of /proc/stat. */
export function parseHostCpuTimes(statText: string): HostCpuTimes {
  const line = statText.split('\n').find((l) => l.startsWith('cpu '));
  const fields = line?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  if (fields.length < 8 || fields.some((n) => !Number.isFinite(n))) {
    throw new ProcReadError('malformed cpu line in /proc/stat');
  }
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const busy = user + nice + system + irq + softirq;
  return { busy, idle: idle + iowait, steal, total: busy + idle + iowait + steal };
}

/** The `some ... total=<µs>` counter of /proc/pressure/cpu: time at least one task waited for a CPU. */
export function parseCpuPressureMicros(text: string): number | null {
  const match = /^some\b.*\btotal=(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}

export interface HostCpuReading {
  times: HostCpuTimes;
  /** Null where the kernel has no pressure stall information. */
  pressureMicros: number | null;
}

export async function readHostCpu(): Promise<HostCpuReading> {
  const [stat, pressure] = await Promise.all([
    readFile('/proc/stat', 'utf8'),
    readFile('/proc/pressure/cpu', 'utf8').catch(() => ''),
  ]);
  return { times: parseHostCpuTimes(stat), pressureMicros: parseCpuPressureMicros(pressure) };
}

/** How busy the whole host was between two readings, in percent. */
export interface HostCpuUsage {
  /** Busy share of all cores (100 = every core busy all the time). */
  busyPercent: number;
  /** Share of all cores stolen by the hypervisor. */
  stealPercent: number;
  /** Share of the wall time during which some task waited for a CPU; null without PSI. */
  pressurePercent: number | null;
}

export function hostCpuUsage(
  before: HostCpuReading,
  after: HostCpuReading,
  wallSeconds: number,
): HostCpuUsage {
  const total = after.times.total - before.times.total;
  const share = (d: number): number => (total > 0 ? (d / total) * 100 : 0);
  const pressure =
    before.pressureMicros === null || after.pressureMicros === null || wallSeconds <= 0
      ? null
      : Math.min(100, ((after.pressureMicros - before.pressureMicros) / 1e6 / wallSeconds) * 100);
  return {
    busyPercent: share(after.times.busy - before.times.busy),
    stealPercent: share(after.times.steal - before.times.steal),
    pressurePercent: pressure,
  };
}
