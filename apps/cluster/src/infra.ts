import { migrate } from '@opamp-fleet/db';
import { detectPostgres, detectRedis, type Source, startServer, withDatabase } from '@opamp-fleet/testkit';
import postgres from 'postgres';

/** A backing service of the local cluster, and how to let go of it. */
export interface ClusterService {
  readonly url: string;
  /** Where it came from, for the banner. */
  readonly origin: string;
  stop(): Promise<void>;
}

const ORIGINS: Record<string, string> = {
  env: 'from the environment',
  local: 'local service',
  'global-setup': 'shared test server',
};

/**
 * Redis for a local cluster: REDIS_URL, else the local service on 127.0.0.1:6379, else a private
 * redis-server started from PATH (or a container where a Docker engine exists), stopped with the cluster.
 */
export async function clusterRedis(): Promise<ClusterService> {
  return fromSource('redis', await detectRedis());
}

/**
 * Postgres for a local cluster, migrated: DATABASE_URL as given; else database `database` on the local
 * service on 127.0.0.1:5432 (created when missing, kept between runs); else a private cluster started
 * from the PostgreSQL binaries on PATH (or a container), stopped with the cluster.
 */
export async function clusterPostgres(database: string): Promise<ClusterService> {
  const source = await detectPostgres();
  const server = await fromSource('postgres', source);
  const envGiven = source.kind === 'url' && source.origin === 'env';
  const url = envGiven ? server.url : withDatabase(server.url, database);
  if (!envGiven) await createDatabaseIfMissing(server.url, database);
  await migrate(url);
  return { ...server, url };
}

async function fromSource(service: 'redis' | 'postgres', source: Source): Promise<ClusterService> {
  if (source.kind === 'url') {
    return { url: source.url, origin: ORIGINS[source.origin] ?? source.origin, stop: async () => {} };
  }
  if (source.kind === 'private') {
    const server = await startServer(service, source.from);
    return {
      url: server.url,
      origin: `private ${source.from === 'container' ? 'container' : 'server'}`,
      stop: () => server.stop(),
    };
  }
  throw new Error(source.reason);
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`invalid database name: ${database}`);
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) await sql.unsafe(`create database ${database}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
