import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DbExecutor } from '../client.js';
import type { AgentStateChanged } from '../events.js';
import { closed, opened, useMigratedDatabase } from '../testing/index.js';
import { applyConnectionEvents } from './connection-events.js';
import { applyStateEvents } from './state-events.js';

const h = useMigratedDatabase({ max: 2, truncateEach: false });

const AGENTS = 10_000;
const BATCH = 500;
const T0 = Date.UTC(2026, 0, 1);
const ids = Array.from({ length: AGENTS }, (_, i) => `agent-${String(i).padStart(5, '0')}`);

/**
 * Sequential and index scans of `agents` counted by this session and not yet reported to the
 * statistics collector (they may include statements before the current transaction: take a delta).
 */
async function agentScans(tx: DbExecutor): Promise<{ seq: number; idx: number }> {
  const rows = await tx.execute<{ seq: number; idx: number }>(sql`
    select seq_scan::int as seq, coalesce(idx_scan, 0)::int as idx
    from pg_stat_xact_user_tables where relname = 'agents'`);
  return rows[0] ?? { seq: 0, idx: 0 };
}

/** Runs `apply` in a transaction of its own and returns the scans of `agents` it made. */
async function scansOf(apply: (tx: DbExecutor) => Promise<unknown>): Promise<{ seq: number; idx: number }> {
  return h.db.transaction(async (tx) => {
    const before = await agentScans(tx);
    await apply(tx);
    const after = await agentScans(tx);
    return { seq: after.seq - before.seq, idx: after.idx - before.idx };
  });
}

// A batch is a few hundred events against a table of many agents: every statement must look its
// agents up by key. Joined as a plain relation, the planner hashed the whole table per statement as
// long as the table was small enough for a sequential scan to look cheaper than the lookups.
describe('event batches against 10,000 agents (planner statistics up to date)', () => {
  beforeAll(async () => {
    for (let i = 0; i < AGENTS; i += BATCH) {
      await applyConnectionEvents(
        h.db,
        ids.slice(i, i + BATCH).map((agentId) => opened(`${agentId}-c1`, 1, { agentId, at: T0 })),
      );
    }
    await h.db.execute(sql`analyze agents, agent_connection_history, agent_status_transitions`);
  }, 120_000);

  it('a batch of closes reads agents by key only: no sequential scan', async () => {
    const batch = ids
      .slice(0, BATCH)
      .map((agentId) => closed(`${agentId}-c1`, 1, { agentId, at: T0 + 1000, reason: 'agent_disconnect' }));
    const scans = await scansOf((tx) => applyConnectionEvents(tx, batch));
    expect(scans.seq).toBe(0);
    expect(scans.idx).toBeGreaterThan(0);
    const [row] = await h.db.execute<{ offline: number }>(
      sql`select count(*)::int as offline from agents where status = 'offline'`,
    );
    expect(row!.offline).toBe(BATCH);
  });

  it('a batch of reconnects (opens of a newer connection) reads agents by key only', async () => {
    const batch = ids
      .slice(BATCH, 2 * BATCH)
      .map((agentId) => opened(`${agentId}-c2`, 2, { agentId, at: T0 + 2000 }));
    const scans = await scansOf((tx) => applyConnectionEvents(tx, batch));
    expect(scans.seq).toBe(0);
    expect(scans.idx).toBeGreaterThan(0);
    const [row] = await h.db.execute<{ moved: number }>(
      sql`select count(*)::int as moved from agents where connection_epoch = 2 and status = 'online'`,
    );
    expect(row!.moved).toBe(BATCH);
  });

  it('a batch of state reports reads agents by key only', async () => {
    const batch: AgentStateChanged[] = ids.slice(2 * BATCH, 3 * BATCH).map((agentId) => ({
      type: 'agent_state',
      agentId,
      connectionEpoch: 1,
      sequenceNum: 1,
      at: T0 + 3000,
      description: { identifying: { 'service.name': 'otelcol' }, nonIdentifying: { 'host.name': agentId } },
      capabilities: 7,
    }));
    const scans = await scansOf((tx) => applyStateEvents(tx, batch));
    expect(scans.seq).toBe(0);
    expect(scans.idx).toBeGreaterThan(0);
    const [row] = await h.db.execute<{ described: number }>(
      sql`select count(*)::int as described from agents where description is not null`,
    );
    expect(row!.described).toBe(BATCH);
  });
});
