/**
 * The system under test of the simulator scenarios: a fresh bench database, a fresh Redis key
 * prefix, `gateways` gateway processes sharing one OpAMP port (each restartable on its own), a
 * worker and `sweepers` sweeper replicas. Every part is registered on the run's Cleanup as it
 * starts, so an interrupted start-up leaves nothing behind.
 */
import postgres from 'postgres';
import type { Cleanup } from '../scenarios/cleanup.js';
import { OPAMP_PATH, SERVER_LIMITS } from '../scenarios/connect.js';
import { startAppProcesses } from '../targets/app-processes.js';
import { createBenchDatabase } from '../targets/bench-database.js';
import { startGateways } from '../targets/gateway-target.js';
import { openRedisNamespace } from '../targets/redis-namespace.js';
import type { ServerTarget } from '../targets/server-target.js';
import { startWorkers } from '../targets/worker-target.js';

export interface ClusterOptions {
  gateways: number;
  sweepers: number;
  heartbeatSeconds: number;
  offlineTimeoutSeconds: number;
  sweepIntervalMs: number;
  redisUrl: string;
  adminDatabaseUrl: string;
  cleanup: Cleanup;
  progress(line: string): void;
}

/** What a report records about the cluster (no URLs: they may hold passwords). */
export interface ClusterSettings {
  gateways: number;
  workers: number;
  sweepers: number;
  heartbeatSeconds: number;
  offlineTimeoutSeconds: number;
  sweepIntervalMs: number;
  database: string;
  redisKeyPrefix: string;
}

export interface Cluster {
  /** ws:// URL of the shared OpAMP port. */
  readonly url: string;
  readonly sql: postgres.Sql;
  readonly settings: ClusterSettings;
  /** Current pids by role (a restarted gateway has a new pid). */
  pids(): { gateways: number[]; workers: number[]; sweepers: number[] };
  /** SIGTERM gateway `index` (it drains, pacing its closes) and wait until it exited. */
  stopGateway(index: number): Promise<void>;
  /** Start a new gateway `index` on the shared port (after `stopGateway(index)`). */
  startGateway(index: number): Promise<void>;
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const { cleanup } = o;
  const db = cleanup.track(await createBenchDatabase(o.adminDatabaseUrl), (d) => d.drop());
  const ns = cleanup.track(await openRedisNamespace(o.redisUrl), (n) => n.close());
  const sql = cleanup.track(postgres(db.url, { max: 4, onnotice: () => {} }), (s) => s.end({ timeout: 5 }));
  const gatewayOptions = {
    processes: 1,
    redisUrl: o.redisUrl,
    path: OPAMP_PATH,
    maxMessageBytes: SERVER_LIMITS.maxMessageBytes,
    idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
    heartbeatIntervalSeconds: o.heartbeatSeconds,
    keyPrefix: ns.keyPrefix,
  };
  const gateways: ServerTarget[] = [];
  cleanup.push(() => Promise.all(gateways.map((g) => g.stop())));
  const first = await startGateways(gatewayOptions);
  gateways.push(first);
  const url = first.url;
  const opampPort = Number(new URL(url).port);
  for (let i = 1; i < o.gateways; i++) gateways.push(await startGateways({ ...gatewayOptions, opampPort }));
  const workers = cleanup.track(
    await startWorkers({ processes: 1, redisUrl: o.redisUrl, keyPrefix: ns.keyPrefix, databaseUrl: db.url }),
    (w) => w.stop(),
  );
  const sweepers = cleanup.track(
    await startAppProcesses(
      'sweeper',
      Array.from({ length: o.sweepers }, (_, i) => ({
        REDIS_URL: o.redisUrl,
        REDIS_KEY_PREFIX: ns.keyPrefix,
        DATABASE_URL: db.url,
        SWEEPER_ID: `bench-sweeper-${i + 1}`,
        OFFLINE_TIMEOUT_SECONDS: String(o.offlineTimeoutSeconds),
        SWEEP_INTERVAL_MS: String(o.sweepIntervalMs),
      })),
    ),
    (s) => s.stop(),
  );
  o.progress(
    `cluster: ${o.gateways} gateway(s) on ${url}, 1 worker, ${o.sweepers} sweeper(s), database ${db.name}`,
  );
  return {
    url,
    sql,
    settings: {
      gateways: o.gateways,
      workers: 1,
      sweepers: o.sweepers,
      heartbeatSeconds: o.heartbeatSeconds,
      offlineTimeoutSeconds: o.offlineTimeoutSeconds,
      sweepIntervalMs: o.sweepIntervalMs,
      database: db.name,
      redisKeyPrefix: ns.keyPrefix,
    },
    pids: () => ({
      gateways: gateways.flatMap((g) => g.pids),
      workers: [...workers.pids],
      sweepers: [...sweepers.pids],
    }),
    async stopGateway(index) {
      await gateways[index]?.stop();
    },
    async startGateway(index) {
      gateways[index] = await startGateways({ ...gatewayOptions, opampPort });
    },
  };
}
