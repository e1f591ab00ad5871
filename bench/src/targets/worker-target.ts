import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freePorts, type RunningProcess, startProcesses } from '@opamp-fleet/testkit';
import { serverNodeArgs } from './server-node-args.js';
import { TargetStartError } from './server-target.js';

const WORKER_ENTRY = fileURLToPath(new URL('../../../apps/worker/dist/main.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 30_000;

/** Worker settings of the bench: the product's defaults, spelled out so the report records them. */
const WORKER_ENV = {
  WORKER_CONCURRENCY: '4',
  DATABASE_POOL_MAX: '10',
  HEARTBEAT_FLUSH_INTERVAL_MS: '500',
  HEARTBEAT_FLUSH_CHUNK_SIZE: '5000',
  HEARTBEAT_FLUSH_MAX_PER_RUN: '200000',
  LOG_LEVEL: 'warn',
} as const;

export interface WorkerOptions {
  processes: number;
  redisUrl: string;
  keyPrefix: string;
  databaseUrl: string;
}

/** Worker processes of a run; their /metrics are at `metricsUrls` (same order as `pids`). */
export interface WorkerTarget {
  readonly pids: readonly number[];
  readonly metricsUrls: readonly string[];
  /** Settings worth recording in the report; never URLs (they may hold passwords). */
  readonly settings: Readonly<Record<string, string | number>>;
  /** SIGTERM (graceful: running batches finish), SIGKILL after a grace period; idempotent. */
  stop(): Promise<void>;
}

/** Starts `processes` workers on the gateways' key prefix and waits until each reports ready. */
export async function startWorkers(options: WorkerOptions): Promise<WorkerTarget> {
  await access(WORKER_ENTRY).catch(() => {
    throw new TargetStartError(`worker not built: ${WORKER_ENTRY} is missing (run pnpm build)`);
  });
  const metricsPorts = await freePorts(options.processes);
  const processes: RunningProcess[] = await startProcesses(
    metricsPorts.map((metricsPort, i) => ({
      name: `worker ${i + 1}`,
      command: process.execPath,
      args: [...serverNodeArgs(), WORKER_ENTRY],
      env: {
        ...WORKER_ENV,
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: String(metricsPort),
        WORKER_ID: `bench-worker-${i + 1}`,
        REDIS_URL: options.redisUrl,
        REDIS_KEY_PREFIX: options.keyPrefix,
        DATABASE_URL: options.databaseUrl,
      },
      readyUrl: `http://127.0.0.1:${metricsPort}/readyz`,
      readyTimeoutMs: START_TIMEOUT_MS,
    })),
  );
  let stopping: Promise<void> | null = null;
  return {
    pids: processes.map((p) => p.pid),
    metricsUrls: metricsPorts.map((port) => `http://127.0.0.1:${port}/metrics`),
    settings: { processes: options.processes, ...WORKER_ENV },
    stop() {
      stopping ??= Promise.all(processes.map((p) => p.stop('SIGTERM', STOP_GRACE_MS))).then(() => undefined);
      return stopping;
    },
  };
}
