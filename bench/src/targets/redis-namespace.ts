import { randomBytes } from 'node:crypto';
import { deleteByPrefix } from '@opamp-fleet/testkit';
import { Redis } from 'ioredis';
import { TargetStartError } from './server-target.js';

/** A fresh key prefix on a shared Redis, for the servers of one run. */
export interface RedisNamespace {
  /** `opamp-bench-<time>-<random>:` */
  readonly keyPrefix: string;
  /** A client of that Redis (for reads such as INFO); closed by `close()`. */
  readonly redis: Redis;
  /** Deletes every key under the prefix (SCAN + UNLINK) and disconnects; idempotent. */
  close(): Promise<void>;
}

/** Connects to `redisUrl` (TargetStartError when unreachable) and picks a fresh key prefix. */
export async function openRedisNamespace(redisUrl: string): Promise<RedisNamespace> {
  // a command that gets no answer fails instead of stalling the run
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 5000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    // the URL may carry a password: name the failure, not the URL
    throw new TargetStartError(`Redis is unreachable: ${(error as Error).message}`);
  }
  const keyPrefix = `opamp-bench-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}:`;
  let closing: Promise<void> | null = null;
  return {
    keyPrefix,
    redis,
    close() {
      closing ??= (async () => {
        try {
          await deleteByPrefix(redis, keyPrefix);
        } finally {
          redis.disconnect();
        }
      })();
      return closing;
    },
  };
}
