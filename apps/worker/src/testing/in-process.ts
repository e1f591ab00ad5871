import { loadWorkerConfig, type WorkerConfig } from '@opamp-fleet/config';
import { createDb, type DbHandle } from '@opamp-fleet/db';
import { createPresenceRedis } from '@opamp-fleet/presence';
import { createQueueRedis } from '@opamp-fleet/queue';
import { createLogger, createMetricsRegistry, type Registry } from '@opamp-fleet/telemetry';
import type { Redis } from 'ioredis';
import { createWorker, type Worker } from '../worker.js';

/** A worker running inside the test process, with its own clients. */
export interface InProcessWorker {
  readonly worker: Worker;
  readonly config: WorkerConfig;
  readonly database: DbHandle;
  readonly queueRedis: Redis;
  readonly registry: Registry;
  /** GET /metrics of its ops port. */
  metrics(): Promise<string>;
  /** Closes the worker, then its clients. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a worker like `main.ts` does, configured by `env` (ops port 0 on loopback, silent logs
 * unless overridden), for integration tests.
 */
export async function startInProcessWorker(env: Record<string, string>): Promise<InProcessWorker> {
  const config = loadWorkerConfig(
    { METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', LOG_LEVEL: 'silent', ...env },
    { hostname: 'test', pid: process.pid },
  );
  const logger = createLogger({ name: 'opamp-worker', level: config.logLevel });
  const registry = createMetricsRegistry({ service: 'worker', defaultMetrics: false });
  const queueRedis = createQueueRedis({ url: config.redisUrl, role: 'worker', onError: () => {} });
  const redis = createPresenceRedis({ url: config.redisUrl, onError: () => {}, maxReconnectDelayMs: 100 });
  const database = createDb(config.databaseUrl, { max: config.databasePoolMax, connectTimeoutSeconds: 5 });
  const worker = createWorker(config, { logger, registry, db: database.db, queueRedis, redis });
  await worker.start();
  let stopping: Promise<void> | undefined;
  return {
    worker,
    config,
    database,
    queueRedis,
    registry,
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${worker.opsPort}/metrics`);
      return res.text();
    },
    stop() {
      stopping ??= (async () => {
        await worker.close();
        await database.close();
        queueRedis.disconnect();
        redis.disconnect();
      })();
      return stopping;
    },
  };
}
