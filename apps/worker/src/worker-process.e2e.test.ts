/**
 * End-to-end fault tests on the built worker (`node apps/worker/dist/main.js`) as real processes:
 * kill -9 in the middle of a batch, and a graceful SIGTERM in the middle of a batch.
 */
import { fileURLToPath } from 'node:url';
import {
  applyConnectionEvents,
  type ConnectionEvent,
  createDb,
  type DbHandle,
  migrate,
} from '@opamp-fleet/db';
import { dumpTables } from '@opamp-fleet/db/testing';
import { type EventBatch, JOBS, QUEUES, queuePrefix } from '@opamp-fleet/queue';
import {
  eventually,
  freePort,
  type PostgresFixture,
  postgresFixture,
  type RedisFixture,
  type RunningProcess,
  redisFixture,
  startProcess,
} from '@opamp-fleet/testkit';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

let redisFx: RedisFixture;
const databases: PostgresFixture[] = [];
const handles: DbHandle[] = [];
const processes: RunningProcess[] = [];

beforeAll(async () => {
  redisFx = await redisFixture();
});

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
});

afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
  await Promise.all([redisFx?.stop(), ...databases.map((d) => d.stop())]);
});

async function database(): Promise<DbHandle & { url: string }> {
  const fx = await postgresFixture();
  databases.push(fx);
  await migrate(fx.url);
  const h = createDb(fx.url, { max: 2 });
  handles.push(h);
  return { ...h, url: fx.url };
}

async function startWorker(
  name: string,
  keyPrefix: string,
  databaseUrl: string,
  extra: Record<string, string> = {},
) {
  const port = await freePort();
  const proc = await startProcess({
    name,
    command: process.execPath,
    args: [MAIN],
    env: {
      REDIS_URL: redisFx.url,
      REDIS_KEY_PREFIX: keyPrefix,
      DATABASE_URL: databaseUrl,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(port),
      WORKER_ID: name,
      JOB_LOCK_DURATION_MS: '2000',
      JOB_STALLED_INTERVAL_MS: '1000',
      LOG_LEVEL: 'warn',
      ...extra,
    },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
  processes.push(proc);
  return { proc, metrics: () => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()) };
}

/**
 * `batches` batches of `connections` connections each (an open and a close per connection), five
 * connections per agent. Batches share no agent, so the order in which they run does not matter.
 */
function batchesOf(batches: number, connections: number): EventBatch[] {
  return Array.from({ length: batches }, (_, b) => ({
    v: 1 as const,
    producerId: 'gw-e2e',
    seq: b,
    events: Array.from({ length: connections }, (_, i): ConnectionEvent[] => {
      const n = b * connections + i;
      const base = {
        agentId: `agent-${b}-${i % (connections / 5)}`,
        connectionId: `conn-${n}`,
        connectionEpoch: n + 1,
        gatewayId: 'gw-e2e',
      };
      const at = Date.UTC(2026, 0, 1) + n;
      return [
        { ...base, type: 'connection_opened', transport: 'ws', remoteAddress: null, at },
        { ...base, type: 'connection_closed', reason: 'agent_disconnect', at: at + 5 },
      ];
    }).flat(),
  }));
}

async function enqueue(keyPrefix: string, batches: EventBatch[]): Promise<Queue> {
  const queue = new Queue(QUEUES.agentEvents, {
    connection: redisFx.client({ maxRetriesPerRequest: null }),
    prefix: queuePrefix(keyPrefix),
  });
  await queue.addBulk(
    batches.map((data) => ({
      name: JOBS.eventBatch,
      data,
      opts: { jobId: `gw-e2e.test.${data.seq}`, attempts: 100, backoff: { type: 'capped-exponential' } },
    })),
  );
  return queue;
}

/** True while the worker named `name` has a statement running or a transaction open. */
async function inTransaction(db: DbHandle, name: string): Promise<boolean> {
  const rows = await db.sql`select 1 from pg_stat_activity
    where application_name = ${`opamp-worker:${name}`} and state in ('active', 'idle in transaction')`;
  return rows.length > 0;
}

describe('worker processes', () => {
  it('kill -9 in the middle of a batch: another worker re-runs it, with zero duplicate or missing rows', async () => {
    const keyPrefix = `${redisFx.prefix}kill:`;
    const db = await database();
    const batches = batchesOf(4, 2500); // 5000 events per batch
    const queue = await enqueue(keyPrefix, batches);

    const a = await startWorker('worker-a', keyPrefix, db.url, { WORKER_CONCURRENCY: '1' });
    await eventually(async () => expect(await inTransaction(db, 'worker-a')).toBe(true), {
      timeoutMs: 20_000,
      intervalMs: 2,
    });
    a.proc.signal('SIGKILL');
    expect(await a.proc.exited).toBe('SIGKILL');
    const doneBeforeKill = await queue.getCompletedCount();
    expect(doneBeforeKill).toBeLessThan(4);

    const b = await startWorker('worker-b', keyPrefix, db.url);
    await eventually(async () => expect(await queue.getCompletedCount()).toBe(4), { timeoutMs: 20_000 });
    expect(await queue.getJobCounts('failed', 'active', 'wait', 'delayed')).toEqual({
      failed: 0,
      active: 0,
      wait: 0,
      delayed: 0,
    });
    expect(await b.metrics()).toMatch(
      /opamp_worker_jobs_stalled_total\{queue="agent-events",service="worker"\} [1-9]/,
    );

    // the same batches applied once each, in one process, to a fresh database
    const reference = await database();
    for (const batch of batches) await applyConnectionEvents(reference.db, batch.events as ConnectionEvent[]);
    const [got, want] = await Promise.all([dumpTables(db.db), dumpTables(reference.db)]);
    expect(got.history).toHaveLength(10_000);
    expect(got.agents).toEqual(want.agents);
    expect(got.history).toEqual(want.history);
    // transition ids come from a sequence (the killed transaction used some up): compare the rest
    const withoutId = (rows: Record<string, string | null>[]) =>
      rows
        .map(({ id: _, ...rest }) => rest)
        .sort((x, y) => String(x.event_id).localeCompare(String(y.event_id)));
    expect(want.transitions.length).toBeGreaterThan(0);
    expect(withoutId(got.transitions)).toEqual(withoutId(want.transitions));
    await queue.close();
  }, 60_000);

  it('SIGTERM in the middle of a batch: the batch finishes, the process exits 0, nothing is re-run', async () => {
    const keyPrefix = `${redisFx.prefix}term:`;
    const db = await database();
    const queue = await enqueue(keyPrefix, batchesOf(1, 2500));
    const w = await startWorker('worker-c', keyPrefix, db.url);
    await eventually(async () => expect(await inTransaction(db, 'worker-c')).toBe(true), {
      timeoutMs: 20_000,
      intervalMs: 2,
    });
    expect(await w.proc.stop('SIGTERM', 20_000)).toBe(0);
    expect(await queue.getJobCounts('completed', 'active', 'wait')).toEqual({
      completed: 1,
      active: 0,
      wait: 0,
    });
    const [{ n }] = (await db.sql`select count(*)::int as n from agent_connection_history`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(2500);
    await queue.close();
  }, 60_000);
});
