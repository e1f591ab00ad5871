import type { GeneratorUsage } from './types.js';

/** This process's CPU since `cpuStart` and its current RSS, as the usage of one generator process. */
export function processUsageSince(cpuStart: NodeJS.CpuUsage): GeneratorUsage {
  const { user, system } = process.cpuUsage(cpuStart);
  const cpuSeconds = (user + system) / 1e6;
  return { processes: 1, cpuSeconds, peakProcessCpuSeconds: cpuSeconds, rssBytes: process.memoryUsage.rss() };
}
