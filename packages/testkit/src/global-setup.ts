import type { TestProject } from 'vitest/node';
import { stopSharedContainers } from './fixtures/containers.js';
import { type StartedServer, startServer } from './fixtures/servers.js';
import {
  detectPostgres,
  detectRedis,
  type ProvidedSources,
  type Service,
  type Source,
} from './fixtures/sources.js';

export interface Detectors {
  redis: () => Promise<Source>;
  postgres: () => Promise<Source>;
}

/**
 * Detects the Redis and Postgres sources once. For a `private` source it starts one server of each
 * for the whole run (a private server from the binaries, or a container); `stop` stops them. Never
 * throws: a failure to start becomes an `unavailable` source whose reason the fixtures report.
 */
export async function resolveSources(
  detectors: Detectors = { redis: detectRedis, postgres: detectPostgres },
  start: typeof startServer = startServer,
): Promise<{ sources: ProvidedSources; stop: () => Promise<void> }> {
  const owned: StartedServer[] = [];
  const share = async (service: Service, detect: () => Promise<Source>) => {
    let source: Source;
    try {
      source = await detect();
      if (source.kind !== 'private') return source;
      const server = await start(service, source.from);
      owned.push(server);
      return { kind: 'url', url: server.url, origin: 'global-setup' } satisfies Source;
    } catch (err) {
      return { kind: 'unavailable', reason: String(err) } satisfies Source;
    }
  };
  const [redis, postgres] = await Promise.all([
    share('redis', detectors.redis),
    share('postgres', detectors.postgres),
  ]);
  return {
    sources: { redis, postgres },
    stop: async () => {
      await Promise.allSettled(owned.map((s) => s.stop()));
      await stopSharedContainers();
    },
  };
}

/**
 * Vitest global setup: provides the sources to every test (`inject('testkitSources')`, read by the
 * fixtures) and returns the teardown that stops the servers it started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { sources, stop } = await resolveSources();
  project.provide('testkitSources', sources);
  return stop;
}
