/**
 * Process wiring of the sweeper: configuration, logger, metrics, Redis, Postgres, ops port, signals
 * and exit codes. Exit codes: 0 after SIGTERM/SIGINT (ticks stopped, lease released), 1 on a crash,
 * 2 on invalid configuration, 3 when it cannot start.
 */
import { loadConfigOrExit, loadSweeperConfig } from '@opamp-fleet/config';
import { createDb } from '@opamp-fleet/db';
import {
  createCommandBus,
  createConnectionRegistry,
  createPresenceRedis,
  createSessionStore,
} from '@opamp-fleet/presence';
import {
  createLogger,
  createMetricsRegistry,
  exitOnCrash,
  type OpsServer,
  startOpsServer,
  stopOnSignals,
} from '@opamp-fleet/telemetry';
import { createRegistryCloser } from './connection-closer.js';
import { withSessionTimeouts } from './db-url.js';
import { createSweeper } from './sweeper.js';

const config = loadConfigOrExit(loadSweeperConfig);
const logger = createLogger({ name: 'opamp-sweeper', level: config.logLevel });
const registry = createMetricsRegistry({ service: 'sweeper' });
let lastRedisLog = Number.NEGATIVE_INFINITY;
const presenceRedis = (connectionName: string) =>
  createPresenceRedis({
    url: config.redisUrl,
    connectionName,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    onError: (err) => {
      if (performance.now() - lastRedisLog < 10_000) return;
      lastRedisLog = performance.now();
      logger.warn({ err }, 'redis connection error');
    },
  });
const redis = presenceRedis(`opamp-sweeper:${config.sweeperId}`);
// The closer has its own connection: thousands of close commands after a burst of expiries must not
// queue ahead of the next tick's reads.
const closerRedis = presenceRedis(`opamp-sweeper:${config.sweeperId}:closer`);
const database = createDb(withSessionTimeouts(config.databaseUrl, config.leaseTtlMs), {
  max: 3,
  applicationName: `opamp-sweeper:${config.sweeperId}`,
});
const bus = createCommandBus({ redis: closerRedis, keyPrefix: config.redisKeyPrefix });
const closer = createRegistryCloser({
  redis: closerRedis,
  keyPrefix: config.redisKeyPrefix,
  bus,
  registry: createConnectionRegistry({ redis: closerRedis, keyPrefix: config.redisKeyPrefix }),
  sessions: createSessionStore({ redis: closerRedis, keyPrefix: config.redisKeyPrefix }),
  // The gateway closes the socket (4001) and records the close as heartbeat_timeout; an agent that
  // is alive after all reconnects and comes back online.
  reason: 'heartbeat_timeout',
});

exitOnCrash(logger);

const sweeper = createSweeper(config, { redis, db: database.db, registry, logger, closer });
let ops: OpsServer;
try {
  ops = await startOpsServer({
    host: config.metricsHost,
    port: config.metricsPort,
    registry,
    isReady: () => !stopping(),
    isHealthy: () => sweeper.healthy,
  });
} catch (err) {
  logger.fatal({ err }, 'sweeper failed to start');
  process.exit(3);
}
sweeper.start();
logger.info({ sweeperId: config.sweeperId, metricsPort: ops.port }, 'sweeper started');

const stopping = stopOnSignals(logger, async () => {
  await sweeper.stop();
  await ops.close();
  await bus.close().catch(() => undefined);
  await database.close().catch((err: unknown) => logger.warn({ err }, 'closing Postgres failed'));
  await redis.quit().catch(() => redis.disconnect());
  await closerRedis.quit().catch(() => closerRedis.disconnect());
});
