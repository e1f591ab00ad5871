/**
 * Process wiring of the worker: configuration, logger, metrics, Redis, Postgres, signals and exit
 * codes. Exit codes: 0 after a graceful stop on SIGTERM/SIGINT, 1 on a crash, 2 on invalid
 * configuration, 3 when it cannot start.
 */
import { loadConfigOrExit, loadWorkerConfig } from '@opamp-fleet/config';
import { createDb } from '@opamp-fleet/db';
import { createPresenceRedis } from '@opamp-fleet/presence';
import { createQueueRedis } from '@opamp-fleet/queue';
import {
  createLogger,
  createMetricsRegistry,
  exitOnCrash,
  stopOnSignals,
  throttle,
} from '@opamp-fleet/telemetry';
import { createWorker } from './worker.js';

const config = loadConfigOrExit(loadWorkerConfig);
const logger = createLogger({ name: 'opamp-worker', level: config.logLevel });
const registry = createMetricsRegistry({ service: 'worker' });
const redisLog = throttle(10_000, (suppressed: number, err: Error) =>
  logger.warn({ err, suppressed }, 'redis connection error'),
);
const queueRedis = createQueueRedis({
  url: config.redisUrl,
  role: 'worker',
  connectionName: `opamp-worker:${config.workerId}`,
  onError: redisLog,
});
const redis = createPresenceRedis({
  url: config.redisUrl,
  connectionName: `opamp-worker-flush:${config.workerId}`,
  onError: redisLog,
});
const database = createDb(config.databaseUrl, {
  max: config.databasePoolMax,
  applicationName: `opamp-worker:${config.workerId}`,
});

exitOnCrash(logger);

const worker = createWorker(config, { logger, registry, db: database.db, queueRedis, redis });
try {
  await worker.start();
} catch (err) {
  logger.fatal({ err }, 'worker failed to start');
  process.exit(3);
}

stopOnSignals(logger, async () => {
  await worker.close();
  await database.close().catch((err: unknown) => logger.warn({ err }, 'closing Postgres failed'));
  await Promise.all([
    queueRedis.quit().catch(() => queueRedis.disconnect()),
    redis.quit().catch(() => redis.disconnect()),
  ]);
});
