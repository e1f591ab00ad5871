import { migrate } from '@opamp-fleet/db';
import { type PostgresFixture, postgresFixture, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import { seedFleet } from './fleet.js';
import { createInProcessApi, type InProcessApi } from './in-process.js';

/** A migrated database and a Redis prefix holding the seeded fleet, and an API over them. */
export interface SeededApi {
  readonly pg: PostgresFixture;
  readonly redis: RedisFixture;
  readonly h: InProcessApi;
  /** The Redis clock when the fleet was seeded (ms). */
  readonly nowMs: number;
  /** Environment pointing another API at the same stores. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/** Creates fresh stores, seeds the fleet (see `seedFleet`) and creates an API configured by `env`. */
export async function startSeededApi(env: Record<string, string> = {}): Promise<SeededApi> {
  const [pg, redis] = await Promise.all([postgresFixture(), redisFixture()]);
  await migrate(pg.url);
  const base = { DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.prefix };
  const h = createInProcessApi({ ...base, ...env });
  const seeder = redis.client();
  const [s, us] = await seeder.time();
  const nowMs = Number(s) * 1000 + Math.floor(Number(us) / 1000);
  await seedFleet(h.database.db, seeder, redis.prefix, nowMs);
  return {
    pg,
    redis,
    h,
    nowMs,
    env: base,
    async stop() {
      await h.stop();
      await Promise.all([redis.stop(), pg.stop()]);
    },
  };
}
