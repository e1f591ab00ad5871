import { Redis, type RedisOptions } from 'ioredis';
import { checkInt } from './errors.js';

export interface PresenceRedisOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  url: string;
  /** Shown in CLIENT LIST, e.g. `gateway-7`. */
  connectionName?: string;
  /** A command that gets no reply within this time fails (a hung or stopped server). Default 5000. */
  commandTimeoutMs?: number;
  /** Upper bound of the reconnect back-off. Default 1000. */
  maxReconnectDelayMs?: number;
  /** Connection errors (refused, reset, timeouts). Without it ioredis prints them to stderr. */
  onError?: (err: Error) => void;
  /** Extra ioredis options, applied last. */
  redisOptions?: RedisOptions;
}

/**
 * Creates the ioredis client the presence ports expect: commands FAIL FAST while Redis is unreachable.
 *
 * - `enableOfflineQueue: false`: a command issued while disconnected is rejected at once instead of
 *   waiting in an unbounded in-process queue. The presence writer keeps its own bounded, coalesced
 *   buffer and retries on its next flush, so queueing twice would only hide the outage and grow memory.
 * - `maxRetriesPerRequest: 0`: commands in flight when the connection drops are rejected instead of
 *   being re-sent after a reconnect; every caller of this package retries at its own level (all
 *   scripts are idempotent when re-run).
 * - `commandTimeout`: a server that accepts the connection but does not answer (paused, overloaded)
 *   fails the command instead of stalling the single in-flight flush forever.
 *
 * The client connects in the background and reconnects forever with a capped back-off; commands fail
 * until it is `ready` (listen for the `ready` event or check `status` before the first claim).
 * Subscribers (the command bus) use their own duplicated connection.
 */
export function createPresenceRedis(options: PresenceRedisOptions): Redis {
  const commandTimeout = checkInt('commandTimeoutMs', options.commandTimeoutMs ?? 5000, 1);
  const maxDelay = checkInt('maxReconnectDelayMs', options.maxReconnectDelayMs ?? 1000, 1);
  const redis = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    retryStrategy: (times) => Math.min(times * 50, maxDelay),
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
    ...options.redisOptions,
  });
  if (options.onError) redis.on('error', options.onError);
  return redis;
}

/** How long a process waits for Redis at start before it goes on without it (see {@link waitForRedis}). */
export const REDIS_START_WAIT_MS = 5000;

/**
 * Resolves once `redis` is ready (true) or after `timeoutMs` (false), whichever comes first; the
 * client keeps connecting in the background either way. Processes call it before they report
 * ready, so their first requests do not meet a client that is still connecting (commands fail fast
 * while it is), yet they still start when Redis is down.
 */
export function waitForRedis(redis: Redis, timeoutMs = REDIS_START_WAIT_MS): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    timer.unref();
    function onReady() {
      clearTimeout(timer);
      resolve(true);
    }
    redis.once('ready', onReady);
  });
}
