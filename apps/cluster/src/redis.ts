import { detectRedis, privateRedis } from '@opamp-fleet/testkit';

/** The Redis a local cluster runs against, and how to let go of it. */
export interface ClusterRedis {
  readonly url: string;
  readonly prefix: string;
  /** Where it came from, for the banner. */
  readonly origin: string;
  stop(): Promise<void>;
}

/**
 * Picks Redis for a local cluster: REDIS_URL, else the local service on 127.0.0.1:6379 (under a
 * separate key prefix so the cluster does not mix with anything else there), else a private
 * redis-server started from PATH that is stopped with the cluster.
 */
export async function clusterRedis(prefix: string): Promise<ClusterRedis> {
  const source = await detectRedis();
  if (source.kind === 'url') {
    return { url: source.url, prefix, origin: source.origin, stop: async () => {} };
  }
  if (source.kind === 'private') {
    const server = await privateRedis();
    return { url: server.url, prefix, origin: 'private redis-server', stop: () => server.stop() };
  }
  throw new Error(source.reason);
}
