/**
 * CPU accounting of one measured api-latency run: `measureCpu` wraps a run and reports the CPU the
 * API processes, the run database's Postgres backends, this load generator and the whole host used
 * meanwhile. CPU per request is the work a request costs (its service time on a free core); a p99
 * far above it is queueing.
 */
import { type HostCpuUsage, hostCpuUsage, readHostCpu } from '../metrics/host-cpu.js';
import { readCpuSeconds } from '../metrics/proc.js';

export interface RunCpu {
  wallSeconds: number;
  /** CPU seconds per wall second (1 = one core busy); null when /proc could not be read. */
  apiCores: number | null;
  postgresCores: number | null;
  generatorCores: number;
  /** CPU ms per timed request. */
  apiMsPerRequest: number | null;
  postgresMsPerRequest: number | null;
  /** The whole machine, other tenants included. */
  host: HostCpuUsage;
}

/** Where the CPU of a run is read: the API's pids and the current backends of the run database. */
export interface CpuProbe {
  apiPids: readonly number[];
  postgresPids(): Promise<number[]>;
}

/** CPU seconds by pid; processes that cannot be read (gone, or not on this host) are left out. */
async function cpuOf(pids: readonly number[]): Promise<Map<number, number>> {
  const read = await Promise.all(
    pids.map((pid) =>
      readCpuSeconds(pid)
        .then((s): [number, number] | null => [pid, s])
        .catch(() => null),
    ),
  );
  return new Map(read.filter((r) => r !== null));
}

/** CPU used between two readings; a pid first seen in `after` started during the run. */
function used(before: Map<number, number>, after: Map<number, number>): number | null {
  if (after.size === 0) return null;
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** Runs `run` and adds the CPU its processes used meanwhile. */
export async function measureCpu<T extends { requests: number }>(
  probe: CpuProbe,
  run: () => Promise<T>,
): Promise<T & { cpu: RunCpu }> {
  const [apiBefore, pgBefore, hostBefore] = await Promise.all([
    cpuOf(probe.apiPids),
    probe.postgresPids().then(cpuOf),
    readHostCpu(),
  ]);
  const generatorBefore = process.cpuUsage();
  const start = performance.now();
  const result = await run();
  const wallSeconds = (performance.now() - start) / 1000;
  const generator = process.cpuUsage(generatorBefore);
  const [apiAfter, pgAfter, hostAfter] = await Promise.all([
    cpuOf(probe.apiPids),
    probe.postgresPids().then(cpuOf),
    readHostCpu(),
  ]);
  const api = used(apiBefore, apiAfter);
  const pg = used(pgBefore, pgAfter);
  const perRequest = (s: number | null) =>
    s === null || result.requests === 0 ? null : (s * 1000) / result.requests;
  return {
    ...result,
    cpu: {
      wallSeconds,
      apiCores: api === null ? null : api / wallSeconds,
      postgresCores: pg === null ? null : pg / wallSeconds,
      generatorCores: (generator.user + generator.system) / 1e6 / wallSeconds,
      apiMsPerRequest: perRequest(api),
      postgresMsPerRequest: perRequest(pg),
      host: hostCpuUsage(hostBefore, hostAfter, wallSeconds),
    },
  };
}
