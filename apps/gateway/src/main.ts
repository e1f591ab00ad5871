/**
 * Process wiring of the gateway: configuration, logger, metrics, Redis, signals and exit codes.
 * Exit codes: 0 after a drain on SIGTERM/SIGINT, 1 on a crash, 2 on invalid configuration,
 * 3 when the server cannot start (uWebSockets.js fallback refused, port in use).
 */
import { loadConfigOrExit, loadGatewayConfig } from '@opamp-fleet/config';
import { createPresenceRedis, waitForRedis } from '@opamp-fleet/presence';
import { createQueueRedis } from '@opamp-fleet/queue';
import {
  createLogger,
  createMetricsRegistry,
  exitOnCrash,
  stopOnSignals,
  throttle,
} from '@opamp-fleet/telemetry';
import { createGateway } from './gateway.js';

const config = loadConfigOrExit(loadGatewayConfig);
const logger = createLogger({ name: 'opamp-gateway', level: config.logLevel });
const metricsRegistry = createMetricsRegistry({ service: 'gateway' });
const redisLog = throttle(10_000, (suppressed: number, err: Error) =>
  logger.warn({ err, suppressed }, 'redis connection error'),
);
const redis = createPresenceRedis({
  url: config.redisUrl,
  connectionName: `opamp-gateway:${config.gatewayId}`,
  commandTimeoutMs: config.redisCommandTimeoutMs,
  onError: redisLog,
});
const queueRedis = createQueueRedis({
  role: 'producer',
  url: config.redisUrl,
  connectionName: `opamp-gateway-events:${config.gatewayId}`,
  onError: redisLog,
});

exitOnCrash(logger);

let gateway: ReturnType<typeof createGateway>;
try {
  // Redis first; the gateway also starts without it (presence is buffered)
  await waitForRedis(redis);
  gateway = createGateway(config, { redis, queueRedis, logger, metricsRegistry });
  await gateway.listen();
} catch (err) {
  logger.fatal({ err }, 'gateway failed to start');
  redis.disconnect();
  queueRedis.disconnect();
  process.exit(3);
}

stopOnSignals(logger, async () => {
  await gateway.close();
  await Promise.all([
    redis.quit().catch(() => redis.disconnect()),
    queueRedis.quit().catch(() => queueRedis.disconnect()),
  ]);
});
