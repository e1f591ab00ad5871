import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { collectEnvironment } from '../report/environment.js';
import { startAppProcesses } from '../targets/app-processes.js';
import { type BenchDatabase, createBenchDatabase } from '../targets/bench-database.js';
import { startGateways } from '../targets/gateway-target.js';
import { openRedisNamespace } from '../targets/redis-namespace.js';
import { startWorkers } from '../targets/worker-target.js';
import type { Cleanup } from './cleanup.js';
import { OPAMP_PATH, SERVER_LIMITS } from './connect.js';
import {
  buildOfflineCase,
  type LossMode,
  OFFLINE_REPORT_SCHEMA,
  type OfflineCaseResult,
  type OfflineDetectionReport,
  type OfflineProfile,
  PROFILES,
} from './offline-detection-report.js';
import { OfflineFleet } from './offline-fleet.js';
import { OfflineObserver } from './offline-observer.js';

const POLL_INTERVAL_MS = 50;
const SWEEP_INTERVAL_MS: Record<OfflineProfile, number> = { fast: 250, default: 1000 };

export interface OfflineCase {
  profile: OfflineProfile;
  mode: LossMode;
  agents: number;
}

/** The matrix run without arguments: the cases at a size that fits in a few minutes. */
export const DEFAULT_OFFLINE_MATRIX: readonly OfflineCase[] = [
  ...[1, 1000, 10_000].flatMap((agents) =>
    (['silent', 'graceful'] as const).map((mode) => ({ profile: 'fast' as const, mode, agents })),
  ),
  { profile: 'default', mode: 'silent', agents: 1000 },
];

export interface OfflineContext {
  command: string;
  redisUrl: string;
  adminDatabaseUrl: string;
  cleanup: Cleanup;
  progress(line: string): void;
}

/**
 * Median time (ms) of a raw set-based offline UPDATE of `ids`, each in a rolled-back transaction.
 * The rows are locked first, in id order as the app's writers lock them (close events of the
 * sockets just closed may still be applied): the UPDATE alone is timed and cannot deadlock.
 */
async function rawUpdateMs(sql: postgres.Sql, ids: readonly string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    await sql
      .begin(async (tx) => {
        await tx`select id from agents where id = any(${ids as string[]}) order by id for update`;
        const start = performance.now();
        await tx`update agents set status = 'offline', status_reason = 'heartbeat_timeout',
          status_changed_at = now(), updated_at = now() where id = any(${ids as string[]})`;
        times.push(performance.now() - start);
        throw new RollbackSignal();
      })
      .catch((error: unknown) => {
        if (!(error instanceof RollbackSignal)) throw error;
      });
  }
  return times.sort((a, b) => a - b)[1] as number;
}

class RollbackSignal extends Error {
  override name = 'RollbackSignal';
}

/** One case on a fresh database, Redis prefix, gateway, worker and two sweepers. */
async function runCase(c: OfflineCase, context: OfflineContext): Promise<OfflineCaseResult> {
  const { heartbeatSeconds, offlineTimeoutSeconds } = PROFILES[c.profile];
  const steps: Array<() => Promise<unknown>> = [];
  const track = <T>(value: T, stop: (v: T) => Promise<unknown>): T => {
    steps.push(() => stop(value));
    return value;
  };
  let fleet: OfflineFleet | null = null;
  let stopping: Promise<void> | null = null;
  // also run on SIGINT/SIGTERM through the CLI's cleanup; every step is idempotent
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      fleet?.terminate();
      let failure: unknown = null;
      for (const step of steps.reverse()) {
        try {
          await step();
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure !== null) context.progress(`  cleanup failed: ${(failure as Error).message}`);
    })();
    return stopping;
  };
  context.cleanup.push(stopAll);
  try {
    const db: BenchDatabase = track(await createBenchDatabase(context.adminDatabaseUrl), (d) => d.drop());
    const ns = track(await openRedisNamespace(context.redisUrl), (n) => n.close());
    const sql = track(postgres(db.url, { max: 2, onnotice: () => {} }), (s) => s.end({ timeout: 5 }));
    const gateway = track(
      await startGateways({
        processes: 1,
        redisUrl: context.redisUrl,
        path: OPAMP_PATH,
        maxMessageBytes: SERVER_LIMITS.maxMessageBytes,
        idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
        heartbeatIntervalSeconds: heartbeatSeconds,
        keyPrefix: ns.keyPrefix,
      }),
      (g) => g.stop(),
    );
    const shared = { REDIS_URL: context.redisUrl, REDIS_KEY_PREFIX: ns.keyPrefix, DATABASE_URL: db.url };
    track(
      await startWorkers({
        processes: 1,
        redisUrl: context.redisUrl,
        keyPrefix: ns.keyPrefix,
        databaseUrl: db.url,
      }),
      (w) => w.stop(),
    );
    track(
      await startAppProcesses(
        'sweeper',
        [1, 2].map((n) => ({
          ...shared,
          SWEEPER_ID: `bench-sweeper-${n}`,
          OFFLINE_TIMEOUT_SECONDS: String(offlineTimeoutSeconds),
          SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS[c.profile]),
          LEASE_TTL_MS: '5000',
        })),
      ),
      (s) => s.stop(),
    );
    fleet = await OfflineFleet.connect(gateway.url, c.agents, heartbeatSeconds * 1000);
    const ids = fleet.ids;
    context.progress(`  ${c.agents} agents connected; waiting until online in Postgres`);
    const onlineDeadline = Date.now() + 60_000 + c.agents * 5;
    for (;;) {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from agents where id = any(${ids}) and status = 'online'`;
      if (row?.n === c.agents) break;
      if (Date.now() > onlineDeadline) throw new Error(`only ${row?.n} of ${c.agents} agents went online`);
      await sleep(200);
    }
    // fast: two heartbeat intervals; default: one interval (the connect message counts as a heartbeat)
    const beatSeconds = c.profile === 'fast' ? 2 * heartbeatSeconds : heartbeatSeconds;
    context.progress(`  heartbeating for ${beatSeconds} s, then ${c.mode} loss`);
    await fleet.heartbeatFor(beatSeconds * 1000);
    const pollMs = c.mode === 'graceful' ? 15_000 : offlineTimeoutSeconds * 1000 + 20_000 + c.agents;
    const observer = track(
      await OfflineObserver.start({
        databaseUrl: db.url,
        ids,
        timeoutMs: pollMs,
        pollIntervalMs: POLL_INTERVAL_MS,
      }),
      (o) => o.stop(),
    );
    const goodbyes = c.mode === 'graceful' ? fleet.disconnectAll() : Promise.resolve([]);
    const [offlineSeenMs] = await Promise.all([observer.seen(), goodbyes]);
    // the case's offline transitions, read once: when each agent's was decided, and the reasons
    const transitions = await sql<{ id: string; reason: string | null; at_ms: number }[]>`
      select agent_id as id, reason, (extract(epoch from at) * 1000)::float8 as at_ms
      from agent_status_transitions where agent_id = any(${ids}) and to_status = 'offline'
      order by reason nulls last`;
    const decidedById = new Map<string, number>();
    const reasons: Record<string, number> = {};
    for (const t of transitions) {
      decidedById.set(t.id, Math.min(decidedById.get(t.id) ?? Number.POSITIVE_INFINITY, t.at_ms));
      const reason = t.reason ?? 'none';
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    const decidedMs = ids.map((id) => decidedById.get(id) ?? Number.NaN);
    const raw = await rawUpdateMs(sql, ids);
    return buildOfflineCase({
      profile: c.profile,
      mode: c.mode,
      lastSentMs: fleet.lastSentMs,
      offlineSeenMs,
      decidedMs,
      reasons,
      rawUpdateMs: raw,
      pollIntervalMs: POLL_INTERVAL_MS,
      servers: { database: db.name, redisKeyPrefix: ns.keyPrefix },
    });
  } finally {
    await stopAll();
  }
}

/** Runs the cases one after the other; a failing case is recorded and the run marked incomplete. */
export async function runOfflineDetectionScenario(
  cases: readonly OfflineCase[],
  context: OfflineContext,
): Promise<OfflineDetectionReport> {
  const started = new Date();
  const environment = await collectEnvironment(started);
  const results: OfflineCaseResult[] = [];
  const failures: OfflineDetectionReport['failures'] = [];
  let stop = false;
  context.cleanup.push(async () => {
    stop = true;
  });
  for (const c of cases) {
    if (stop) break;
    context.progress(`offline-detection: ${c.profile} ${c.mode} ${c.agents} agents`);
    try {
      results.push(await runCase(c, context));
    } catch (error) {
      context.progress(`  failed: ${(error as Error).message}`);
      failures.push({ ...c, error: (error as Error).message });
    }
  }
  return {
    schema: OFFLINE_REPORT_SCHEMA,
    scenario: 'offline-detection',
    startedAt: started.toISOString(),
    complete: failures.length === 0 && results.length === cases.length,
    command: context.command,
    environment,
    settings: {
      gateways: 1,
      workers: 1,
      sweepers: 2,
      sweepIntervalMsFast: SWEEP_INTERVAL_MS.fast,
      sweepIntervalMsDefault: SWEEP_INTERVAL_MS.default,
      leaseTtlMs: 5000,
      pollIntervalMs: POLL_INTERVAL_MS,
      agentClient: 'ws TestAgent (one process)',
      observer: 'own thread',
    },
    cases: results,
    failures,
  };
}
