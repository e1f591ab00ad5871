import { truncateTables } from '@opamp-fleet/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  ids,
  seedOnline,
  startHarness,
  statuses,
  testSweeper,
  touch,
  transitionCounts,
} from './testing/harness.js';

let hx: Harness;

beforeAll(async () => {
  hx = await startHarness();
  await truncateTables(hx.h.db);
});
afterAll(async () => {
  await hx?.stop();
});

const T = Date.UTC(2026, 2, 1, 12);

describe('sweeper at scale', () => {
  it('transitions 10,000 agents that expire in the same second, each exactly once', async () => {
    const agents = ids('agent', 10_000);
    await seedOnline(hx.h, agents, T - 3_600_000, T);
    await touch(hx.redis, hx.lastSeenKey, agents, T);
    // the production defaults: batches of 2000, a 2 s tick budget
    const { sweeper } = testSweeper(hx, { sweepBatchSize: 2000, sweepTickBudgetMs: 2000 });
    await sweeper.runOnce(T); // become leader, nothing due yet

    const started = performance.now();
    let ticks = 0;
    let offline = 0;
    while (offline < agents.length && ticks < 10) {
      offline += (await sweeper.runOnce(T + 60_001 + ticks * 1000)).offline;
      ticks += 1;
    }
    const seconds = (performance.now() - started) / 1000;
    // a measurement, not an assertion: this machine is shared
    console.info(`10,000 simultaneous expiries: ${seconds.toFixed(2)} s in ${ticks} tick(s)`);

    expect(offline).toBe(agents.length);
    const counts = await transitionCounts(hx.h, 'offline');
    expect(counts.size).toBe(agents.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect([...(await statuses(hx.h)).values()].every((s) => s === 'offline')).toBe(true);
    const [closed] = await hx.h.sql<{ n: number }[]>`
      select count(*)::int as n from agent_connection_history where disconnect_reason = 'heartbeat_timeout'`;
    expect(closed?.n).toBe(agents.length);
    expect(await hx.redis.zcard(hx.lastSeenKey)).toBe(0);
  }, 120_000);
});
