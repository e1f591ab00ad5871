import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { type HostSpeed, measureHostSpeed } from '../metrics/host-speed.js';
import { readOpenFileLimits } from '../metrics/proc.js';
import type { Environment } from './types.js';

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

let hostSpeed: HostSpeed | null = null;

/**
 * This host's speed on the calibration workload, timed once per process: the CLI calls it before a
 * scenario starts anything (a quiet box, not the run's own load); later calls return that reading.
 */
export function calibrateHost(): HostSpeed {
  hostSpeed ??= measureHostSpeed();
  return hostSpeed;
}

/** The machine and code a run was measured on. */
export async function collectEnvironment(now: Date): Promise<Environment> {
  const cpus = os.cpus();
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    date: now.toISOString(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()}`,
    nodeVersion: process.version,
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirty: status === null ? null : status !== '',
    openFileLimit: (await readOpenFileLimits()).soft,
    loadAverage1m: os.loadavg()[0] ?? 0,
    hostSpeed: calibrateHost(),
  };
}
