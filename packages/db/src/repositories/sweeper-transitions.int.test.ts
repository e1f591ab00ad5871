import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { InvalidBatchError } from '../errors.js';
import { closed, dumpTables, opened, useMigratedDatabase } from '../testing/index.js';
import { applyConnectionEvents } from './connection-events.js';
import { flushLastSeen } from './last-seen.js';
import { getAgent, listHistory, listTransitions } from './reads.js';
import { readPresenceBaseline, writePresenceBaseline } from './sweeper-state.js';
import { findStaleOnline, markError, markOffline, readOnlineAgents } from './sweeper-transitions.js';

const h = useMigratedDatabase({ max: 2 });

const T0 = Date.UTC(2026, 0, 1);
const OPEN_AT = T0 + 60_000; // opened('c1', 1) default time
const SEEN = OPEN_AT + 10_000;
const DECIDED = SEEN + 60_000;
const timeout = { reason: 'heartbeat_timeout', atMs: DECIDED };

/** agent-1 online on c1 (epoch 1), last seen at SEEN. */
async function onlineAgent(id = 'agent-1', epoch = 1): Promise<void> {
  await applyConnectionEvents(h.db, [opened(`${id}/c${epoch}`, epoch, { agentId: id, at: OPEN_AT })]);
  await flushLastSeen(h.db, [id], [SEEN]);
}

describe('markOffline', () => {
  it('takes an online agent offline once: agent row, history row closed, one transition', async () => {
    await onlineAgent();
    const r = await markOffline(
      h.db,
      [{ agentId: 'agent-1', lastSeenMs: SEEN, connectionEpoch: 1 }],
      timeout,
    );
    expect(r).toEqual({
      guardHeld: true,
      agents: [{ agentId: 'agent-1', connectionId: 'agent-1/c1', transport: 'ws' }],
      historyClosed: 1,
      transitions: 1,
    });
    const agent = await getAgent(h.db, 'agent-1');
    expect(agent).toMatchObject({
      status: 'offline',
      statusReason: 'heartbeat_timeout',
      disconnectReason: 'heartbeat_timeout',
      statusChangedAt: new Date(DECIDED),
      lastDisconnectedAt: new Date(DECIDED),
      lastSeenAt: new Date(SEEN),
    });
    const [hist] = await listHistory(h.db, 'agent-1');
    expect(hist).toMatchObject({
      disconnectedAt: new Date(DECIDED),
      disconnectReason: 'heartbeat_timeout',
      durationSeconds: (DECIDED - OPEN_AT) / 1000,
    });
    const [tr] = await listTransitions(h.db, 'agent-1');
    expect(tr).toMatchObject({
      eventId: `timeout:agent-1:1:${SEEN}`,
      fromStatus: 'online',
      toStatus: 'offline',
      reason: 'heartbeat_timeout',
      decidedBy: 'sweeper',
      at: new Date(DECIDED),
      connectionId: 'agent-1/c1',
    });

    const before = await dumpTables(h.db, { physical: true });
    const again = await markOffline(
      h.db,
      [{ agentId: 'agent-1', lastSeenMs: SEEN, connectionEpoch: 1 }],
      timeout,
    );
    expect(again).toEqual({ guardHeld: true, agents: [], historyClosed: 0, transitions: 0 });
    expect(await dumpTables(h.db, { physical: true })).toEqual(before);
  });

  it('changes nothing when Postgres saw a newer heartbeat, a newer connection, or the agent is not online', async () => {
    await onlineAgent('fresh');
    await onlineAgent('reconnected');
    await applyConnectionEvents(h.db, [opened('reconnected/c2', 2, { agentId: 'reconnected' })]);
    await onlineAgent('closed');
    await applyConnectionEvents(h.db, [closed('closed/c1', 1, { agentId: 'closed' })]);
    const before = await dumpTables(h.db, { physical: true });
    const r = await markOffline(
      h.db,
      [
        { agentId: 'fresh', lastSeenMs: SEEN - 1, connectionEpoch: 1 },
        { agentId: 'reconnected', lastSeenMs: SEEN, connectionEpoch: 1 },
        { agentId: 'closed', lastSeenMs: SEEN, connectionEpoch: 1 },
        { agentId: 'unknown', lastSeenMs: SEEN, connectionEpoch: 0 },
      ],
      timeout,
    );
    expect(r.agents).toEqual([]);
    expect(await dumpTables(h.db, { physical: true })).toEqual(before);
  });

  it('moves last_seen_at forward to the decided time and handles a NULL last-seen', async () => {
    await applyConnectionEvents(h.db, [
      opened('a/c1', 1, { agentId: 'a' }),
      opened('b/c1', 1, { agentId: 'b' }),
    ]);
    await flushLastSeen(h.db, ['a'], [SEEN - 5000]);
    const r = await markOffline(
      h.db,
      [
        { agentId: 'a', lastSeenMs: SEEN, connectionEpoch: 1 },
        { agentId: 'b', lastSeenMs: null, connectionEpoch: 1 },
      ],
      timeout,
    );
    expect(r.agents.map((a) => a.agentId)).toEqual(['a', 'b']);
    expect((await getAgent(h.db, 'a'))?.lastSeenAt).toEqual(new Date(SEEN));
    expect((await getAgent(h.db, 'b'))?.lastSeenAt).toBeNull();
    expect((await listTransitions(h.db, 'b'))[0]?.eventId).toBe('timeout:b:1:none');
  });

  it('writes nothing when the guard is false', async () => {
    await onlineAgent();
    const before = await dumpTables(h.db, { physical: true });
    const r = await markOffline(h.db, [{ agentId: 'agent-1', lastSeenMs: SEEN, connectionEpoch: 1 }], {
      ...timeout,
      guard: sql`false`,
    });
    expect(r).toEqual({ guardHeld: false, agents: [], historyClosed: 0, transitions: 0 });
    expect(await dumpTables(h.db, { physical: true })).toEqual(before);
  });

  it("leaves the sweeper's history end in place when the gateway's close arrives later; a reconnect brings it online", async () => {
    await onlineAgent();
    await markOffline(h.db, [{ agentId: 'agent-1', lastSeenMs: SEEN, connectionEpoch: 1 }], timeout);
    await applyConnectionEvents(h.db, [
      closed('agent-1/c1', 1, { reason: 'heartbeat_timeout', at: DECIDED + 50 }),
    ]);
    const [hist] = await listHistory(h.db, 'agent-1');
    expect(hist?.disconnectedAt).toEqual(new Date(DECIDED));
    expect(await listTransitions(h.db, 'agent-1')).toHaveLength(2); // open, timeout

    await applyConnectionEvents(h.db, [opened('agent-1/c2', 2, { at: DECIDED + 1000 })]);
    expect((await getAgent(h.db, 'agent-1'))?.status).toBe('online');
    expect((await listTransitions(h.db, 'agent-1')).map((t) => `${t.fromStatus}->${t.toStatus}`)).toEqual([
      'offline->online',
      'online->offline',
      'null->online',
    ]);
  });

  it('closes no history row when the open of the current connection has not landed', async () => {
    await applyConnectionEvents(h.db, [opened('a/c1', 1, { agentId: 'a' })]);
    await h.db.execute(sql`update agents set current_connection_id = 'a/c9' where id = 'a'`);
    const r = await markOffline(h.db, [{ agentId: 'a', lastSeenMs: null, connectionEpoch: 1 }], timeout);
    expect(r).toMatchObject({ historyClosed: 0, transitions: 1 });
  });

  it('rejects malformed candidates before writing', async () => {
    const bad = [
      { agentId: '', lastSeenMs: 1, connectionEpoch: 1 },
      { agentId: 'a', lastSeenMs: Number.NaN, connectionEpoch: 1 },
      { agentId: 'a', lastSeenMs: 1, connectionEpoch: 1.5 },
    ];
    for (const c of bad) await expect(markOffline(h.db, [c], timeout)).rejects.toThrow(InvalidBatchError);
    await expect(markOffline(h.db, [], { reason: '', atMs: 1 })).rejects.toThrow(/reason/);
    await expect(markOffline(h.db, [], { reason: 'x', atMs: Number.NaN })).rejects.toThrow(/atMs/);
  });
});

describe('markError', () => {
  const ERROR_AT = DECIDED + 600_000;
  const offlineTooLong = { reason: 'offline_too_long', atMs: ERROR_AT, beforeMs: DECIDED, limit: 100 };

  it('moves agents offline long enough to error once, oldest first, up to the limit', async () => {
    for (const id of ['a', 'b', 'c']) await onlineAgent(id);
    await markOffline(h.db, [{ agentId: 'a', lastSeenMs: SEEN, connectionEpoch: 1 }], timeout);
    await markOffline(h.db, [{ agentId: 'b', lastSeenMs: SEEN, connectionEpoch: 1 }], {
      ...timeout,
      atMs: DECIDED - 1000,
    });
    await markOffline(h.db, [{ agentId: 'c', lastSeenMs: SEEN, connectionEpoch: 1 }], {
      ...timeout,
      atMs: DECIDED + 1,
    });
    await flushLastSeen(h.db, ['never-online'], [SEEN]); // created offline, never transitioned

    const first = await markError(h.db, { ...offlineTooLong, limit: 1 });
    expect(first).toEqual({ guardHeld: true, agentIds: ['b'], transitions: 1 });
    const rest = await markError(h.db, offlineTooLong);
    expect(rest).toEqual({ guardHeld: true, agentIds: ['a'], transitions: 1 });
    expect(await markError(h.db, offlineTooLong)).toEqual({ guardHeld: true, agentIds: [], transitions: 0 });

    expect(await getAgent(h.db, 'a')).toMatchObject({
      status: 'error',
      statusReason: 'offline_too_long',
      statusChangedAt: new Date(ERROR_AT),
    });
    expect((await listTransitions(h.db, 'a'))[0]).toMatchObject({
      eventId: `error:a:1:${DECIDED}`,
      fromStatus: 'offline',
      toStatus: 'error',
      decidedBy: 'sweeper',
    });
    expect((await getAgent(h.db, 'c'))?.status).toBe('offline');
    expect((await getAgent(h.db, 'never-online'))?.status).toBe('offline');
  });

  it('writes nothing when the guard is false', async () => {
    await onlineAgent('a');
    await markOffline(h.db, [{ agentId: 'a', lastSeenMs: SEEN, connectionEpoch: 1 }], timeout);
    const r = await markError(h.db, { ...offlineTooLong, guard: sql`false` });
    expect(r).toEqual({ guardHeld: false, agentIds: [], transitions: 0 });
    expect((await getAgent(h.db, 'a'))?.status).toBe('offline');
  });

  it('rejects bad options', async () => {
    await expect(markError(h.db, { ...offlineTooLong, limit: 0 })).rejects.toThrow(/limit/);
    await expect(markError(h.db, { ...offlineTooLong, beforeMs: Number.NaN })).rejects.toThrow(/beforeMs/);
  });
});

describe('reads for the sweeper', () => {
  it('readOnlineAgents returns the online ones with epoch and last-seen', async () => {
    await onlineAgent('a');
    await onlineAgent('b', 3);
    await applyConnectionEvents(h.db, [closed('b/c3', 3, { agentId: 'b' })]);
    expect(await readOnlineAgents(h.db, ['a', 'b', 'zzz', 'a'])).toEqual([
      { agentId: 'a', connectionEpoch: 1, lastSeenMs: SEEN },
    ]);
    expect(await readOnlineAgents(h.db, [])).toEqual([]);
    await expect(readOnlineAgents(h.db, [''])).rejects.toThrow(InvalidBatchError);
  });

  it('findStaleOnline lists online agents Postgres last saw before the cutoff, never-seen first', async () => {
    await onlineAgent('old');
    await onlineAgent('recent');
    await flushLastSeen(h.db, ['recent'], [SEEN + 30_000]);
    await applyConnectionEvents(h.db, [opened('never/c1', 1, { agentId: 'never', at: OPEN_AT })]);
    await applyConnectionEvents(h.db, [opened('young/c1', 1, { agentId: 'young', at: SEEN + 20_000 })]);
    await onlineAgent('reconnected');
    await applyConnectionEvents(h.db, [
      opened('reconnected/c2', 2, { agentId: 'reconnected', at: SEEN + 20_000 }),
    ]);
    expect(await findStaleOnline(h.db, { beforeMs: SEEN + 10_000, limit: 10 })).toEqual([
      { agentId: 'never', connectionEpoch: 1, lastSeenMs: null },
      { agentId: 'old', connectionEpoch: 1, lastSeenMs: SEEN },
    ]);
    expect(await findStaleOnline(h.db, { beforeMs: SEEN + 10_000, limit: 1 })).toHaveLength(1);
  });

  it('stores and reads the presence baseline', async () => {
    expect(await readPresenceBaseline(h.db, 'sweeper')).toBeNull();
    await writePresenceBaseline(h.db, 'sweeper', { redisEpoch: 'e1', redisRunId: 'r1' });
    await writePresenceBaseline(h.db, 'sweeper', { redisEpoch: 'e1', redisRunId: 'r1' });
    expect(await readPresenceBaseline(h.db, 'sweeper')).toEqual({ redisEpoch: 'e1', redisRunId: 'r1' });
    await writePresenceBaseline(h.db, 'sweeper', { redisEpoch: 'e2', redisRunId: 'r1' });
    expect(await readPresenceBaseline(h.db, 'sweeper')).toEqual({ redisEpoch: 'e2', redisRunId: 'r1' });
    expect(await readPresenceBaseline(h.db, 'other')).toBeNull();
  });
});
