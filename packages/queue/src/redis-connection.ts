import { Redis, type RedisOptions } from 'ioredis';
import { checkInt } from './errors.js';

export interface QueueRedisOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  url: string;
  /**
   * `producer`: commands fail at once while Redis is unreachable (no offline queue, no re-sends), so
   * the event producer's own bounded buffer is the only place events wait.
   * `worker`: what BullMQ workers require (`maxRetriesPerRequest: null`): commands wait for the
   * reconnect instead of failing, so a worker survives a Redis restart.
   */
  role: 'producer' | 'worker';
  /** Shown in CLIENT LIST. */
  connectionName?: string;
  /** Upper bound of the reconnect back-off. Default 1000. */
  maxReconnectDelayMs?: number;
  /** Connection errors; without a listener ioredis prints them to stderr. */
  onError?: (err: Error) => void;
  /** Extra ioredis options, applied last. */
  redisOptions?: RedisOptions;
}

/**
 * Creates the ioredis client BullMQ runs on. Keep it apart from the presence layer's fail-fast
 * client: BullMQ workers refuse a client whose `maxRetriesPerRequest` is not null, and duplicate it
 * for their blocking connection. The caller owns the client and quits it after closing everything
 * that uses it.
 */
export function createQueueRedis(options: QueueRedisOptions): Redis {
  const maxDelay = checkInt('maxReconnectDelayMs', options.maxReconnectDelayMs ?? 1000, 1);
  const roleOptions: RedisOptions =
    options.role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 0 }
      : { maxRetriesPerRequest: null };
  const redis = new Redis(options.url, {
    ...roleOptions,
    retryStrategy: (times) => Math.min(times * 50, maxDelay),
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
    ...options.redisOptions,
  });
  if (options.onError) redis.on('error', options.onError);
  return redis;
}
