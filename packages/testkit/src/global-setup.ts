import type { TestProject } from 'vitest/node';
import { type PrivatePostgres, privatePostgres } from './fixtures/private-postgres.js';
import { type PrivateRedis, privateRedis } from './fixtures/private-redis.js';
import { detectPostgres, detectRedis, type ProvidedSources, type Source } from './fixtures/sources.js';

export interface Detectors {
  redis: () => Promise<Source>;
  postgres: () => Promise<Source>;
}

/**
 * Detects the Redis and Postgres sources once. Where only the binaries exist, starts one private
 * server of each for the whole run; `stop` stops them. Never throws: a failure to start becomes an
 * `unavailable` source whose reason the fixtures report.
 */
export async function resolveSources(
  detectors: Detectors = { redis: detectRedis, postgres: detectPostgres },
): Promise<{ sources: ProvidedSources; stop: () => Promise<void> }> {
  const owned: Array<PrivateRedis | PrivatePostgres> = [];
  const share = async (
    detect: () => Promise<Source>,
    start: () => Promise<PrivateRedis | PrivatePostgres>,
  ) => {
    let source: Source;
    try {
      source = await detect();
      if (source.kind !== 'private') return source;
      const server = await start();
      owned.push(server);
      return { kind: 'url', url: server.url, origin: 'global-setup' } satisfies Source;
    } catch (err) {
      return { kind: 'unavailable', reason: String(err) } satisfies Source;
    }
  };
  const [redis, postgres] = await Promise.all([
    share(detectors.redis, privateRedis),
    share(detectors.postgres, privatePostgres),
  ]);
  return {
    sources: { redis, postgres },
    stop: async () => {
      await Promise.allSettled(owned.map((s) => s.stop()));
    },
  };
}

/**
 * Vitest global setup: provides the sources to every test (`inject('testkitSources')`, read by the
 * fixtures) and returns the teardown that stops the private servers it started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { sources, stop } = await resolveSources();
  project.provide('testkitSources', sources);
  return stop;
}
