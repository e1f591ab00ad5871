import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freePorts, type RunningProcess, startProcesses } from '@opamp-fleet/testkit';
import { serverNodeArgs } from './server-node-args.js';
import { TargetStartError } from './server-target.js';

const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 15_000;

/** Processes of one app started by the bench; idempotent `stop()` (SIGTERM, SIGKILL after a grace). */
export interface AppProcesses {
  readonly pids: readonly number[];
  /** Ops ports (/metrics, /readyz), same order as `pids`. */
  readonly metricsPorts: readonly number[];
  stop(): Promise<void>;
}

/**
 * Starts `envs.length` processes of the built app `app` (`apps/<app>/dist/main.js`), each with its
 * own METRICS_PORT, and waits until each answers /readyz (up to `readyTimeoutMs`: a process started
 * on a host saturated by the fleet gets a small share of the CPU to load its modules).
 */
export async function startAppProcesses(
  app: 'sweeper' | 'api',
  envs: readonly Record<string, string>[],
  { readyTimeoutMs = START_TIMEOUT_MS }: { readyTimeoutMs?: number } = {},
): Promise<AppProcesses> {
  const entry = fileURLToPath(new URL(`../../../apps/${app}/dist/main.js`, import.meta.url));
  await access(entry).catch(() => {
    throw new TargetStartError(`${app} not built: ${entry} is missing (run pnpm build)`);
  });
  const metricsPorts = await freePorts(envs.length);
  const processes: RunningProcess[] = await startProcesses(
    envs.map((env, i) => ({
      name: `${app} ${i + 1}`,
      command: process.execPath,
      args: [...serverNodeArgs(), entry],
      env: { LOG_LEVEL: 'warn', METRICS_HOST: '127.0.0.1', ...env, METRICS_PORT: String(metricsPorts[i]) },
      readyUrl: `http://127.0.0.1:${metricsPorts[i]}/readyz`,
      readyTimeoutMs,
    })),
  );
  let stopping: Promise<void> | null = null;
  return {
    pids: processes.map((p) => p.pid),
    metricsPorts,
    stop() {
      stopping ??= Promise.all(processes.map((p) => p.stop('SIGTERM', STOP_GRACE_MS))).then(() => undefined);
      return stopping;
    },
  };
}
