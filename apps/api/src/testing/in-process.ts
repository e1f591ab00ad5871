import { type ApiConfig, loadApiConfig } from '@opamp-fleet/config';
import { createDb, type DbHandle } from '@opamp-fleet/db';
import { createPresenceRedis } from '@opamp-fleet/presence';
import { createLogger, createMetricsRegistry, type Registry } from '@opamp-fleet/telemetry';
import type { Redis } from 'ioredis';
import { type Api, createApi } from '../api.js';

/** An API running inside the test process, with its own clients. */
export interface InProcessApi {
  readonly api: Api;
  readonly config: ApiConfig;
  readonly database: DbHandle;
  readonly redis: Redis;
  readonly registry: Registry;
  /** Closes the API, then its clients. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Creates an API like `main.ts` does, configured by `env` (ports 0 on loopback, silent logs unless
 * overridden). It answers `api.app.inject()` at once; call `api.listen()` for real ports.
 */
export function createInProcessApi(env: Record<string, string>): InProcessApi {
  const config = loadApiConfig({
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const logger = createLogger({ name: 'opamp-api', level: config.logLevel });
  const registry = createMetricsRegistry({ service: 'api', defaultMetrics: false });
  const redis = createPresenceRedis({
    url: config.redisUrl,
    onError: () => {},
    commandTimeoutMs: config.redisCommandTimeoutMs,
    maxReconnectDelayMs: 100,
    redisOptions: { enableAutoPipelining: true },
  });
  const database = createDb(config.databaseUrl, { max: config.databasePoolMax, connectTimeoutSeconds: 5 });
  const api = createApi(config, { logger, registry, db: database.db, redis });
  let stopping: Promise<void> | undefined;
  return {
    api,
    config,
    database,
    redis,
    registry,
    stop() {
      stopping ??= (async () => {
        await api.close();
        // a pool whose database is missing (failure tests) waits out its end timeout: bound it
        await Promise.race([database.close(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        redis.disconnect();
      })();
      return stopping;
    },
  };
}
