import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { readOpenFileLimits } from '../metrics/proc.js';
import type { Environment } from './types.js';

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
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
  };
}
