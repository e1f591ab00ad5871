/**
 * Process wiring of the REST API: configuration, logger, metrics, Redis, Postgres, signals and exit
 * codes. Exit codes: 0 after a graceful stop on SIGTERM/SIGINT, 1 on a crash, 2 on invalid
 * configuration, 3 when it cannot start.
 */
import { loadApiConfig, loadConfigOrExit } from '@opamp-fleet/config';
import { createDb } from '@opamp-fleet/db';
import { createPresenceRedis, waitForRedis } from '@opamp-fleet/presence';
import {
  createLogger,
  createMetricsRegistry,
  exitOnCrash,
  stopOnSignals,
  throttle,
} from '@opamp-fleet/telemetry';
import { createApi } from './api.js';

const config = loadConfigOrExit(loadApiConfig);
const logger = createLogger({ name: 'opamp-api', level: config.logLevel });
const registry = createMetricsRegistry({ service: 'api' });
const redisLog = throttle(10_000, (suppressed: number, err: Error) =>
  logger.warn({ err, suppressed }, 'redis connection error'),
);
const redis = createPresenceRedis({
  url: config.redisUrl,
  connectionName: `opamp-api:${process.pid}`,
  commandTimeoutMs: config.redisCommandTimeoutMs,
  // the reads of a request (and of concurrent requests) issued in one tick go out in one write
  redisOptions: { enableAutoPipelining: true },
  onError: redisLog,
});
const database = createDb(config.databaseUrl, {
  max: config.databasePoolMax,
  applicationName: `opamp-api:${process.pid}`,
});

exitOnCrash(logger);

// Redis first, so the first requests find a connected client; without Redis the API still starts and
// answers from Postgres alone (`presence_available: false`)
if (!(await waitForRedis(redis))) {
  logger.warn('Redis not reachable at start; answering from Postgres alone until it is');
}

const api = createApi(config, { logger, registry, db: database.db, redis });
try {
  await api.listen();
} catch (err) {
  logger.fatal({ err }, 'API failed to start');
  process.exit(3);
}

stopOnSignals(logger, async () => {
  await api.close();
  await database.close().catch((err: unknown) => logger.warn({ err }, 'closing Postgres failed'));
  await redis.quit().catch(() => redis.disconnect());
});
