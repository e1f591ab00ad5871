import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../events.js';
import { closed, dumpTables, opened, truncateTables, useMigratedDatabase } from '../testing/index.js';
import { applyConnectionEvents } from './connection-events.js';
import { getAgent, listHistory, listTransitions } from './reads.js';
import { markError, markOffline } from './sweeper-transitions.js';

const h = useMigratedDatabase({ max: 8 });

const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms);

/** Applies each batch, then proves that applying it again writes no row at all. */
async function apply(...batches: ConnectionEvent[][]) {
  for (const batch of batches) {
    await applyConnectionEvents(h.db, batch);
    const before = await dumpTables(h.db, { physical: true });
    expect(await applyConnectionEvents(h.db, batch)).toEqual({
      agentsCreated: 0,
      agentsUpdated: 0,
      historyRowsWritten: 0,
      transitions: 0,
    });
    expect(await dumpTables(h.db, { physical: true })).toEqual(before);
  }
}

const transitionsOf = async (agentId = 'agent-1') =>
  (await listTransitions(h.db, agentId)).reverse().map((t) => `${t.eventId} ${t.fromStatus}->${t.toStatus}`);

describe('applyConnectionEvents', () => {
  it('an open creates the agent online, a history row and a first transition from NULL', async () => {
    const result = await applyConnectionEvents(h.db, [
      opened('c1', 1, { at: T0, transport: 'http', remoteAddress: '192.0.2.7:5555', gatewayId: 'gw-a' }),
    ]);
    expect(result).toEqual({ agentsCreated: 1, agentsUpdated: 1, historyRowsWritten: 1, transitions: 1 });
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'online',
      statusReason: 'connected',
      statusChangedAt: iso(T0),
      lastConnectedAt: iso(T0),
      currentConnectionId: 'c1',
      connectionEpoch: 1,
      transport: 'http',
      lastDisconnectedAt: null,
    });
    expect(await listHistory(h.db, 'agent-1')).toEqual([
      {
        connectionId: 'c1',
        agentId: 'agent-1',
        connectionEpoch: 1,
        gatewayId: 'gw-a',
        transport: 'http',
        remoteAddress: '192.0.2.7:5555',
        connectedAt: iso(T0),
        disconnectedAt: null,
        durationSeconds: null,
        disconnectReason: null,
      },
    ]);
    const [t] = await listTransitions(h.db, 'agent-1');
    expect(t).toMatchObject({
      eventId: 'open:c1',
      fromStatus: null,
      toStatus: 'online',
      reason: 'connected',
      at: iso(T0),
      decidedBy: 'gateway',
      connectionId: 'c1',
    });
  });

  it('a close of the current connection takes the agent offline with its reason and duration', async () => {
    await apply(
      [opened('c1', 1, { at: T0 })],
      [closed('c1', 1, { at: T0 + 90_500, reason: 'agent_disconnect' })],
    );
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      statusReason: 'agent_disconnect',
      statusChangedAt: iso(T0 + 90_500),
      lastDisconnectedAt: iso(T0 + 90_500),
      disconnectReason: 'agent_disconnect',
      lastConnectedAt: iso(T0),
      currentConnectionId: 'c1',
    });
    const [row] = await listHistory(h.db, 'agent-1');
    expect(row).toMatchObject({
      disconnectedAt: iso(T0 + 90_500),
      durationSeconds: 90.5,
      disconnectReason: 'agent_disconnect',
    });
    expect(await transitionsOf()).toEqual(['open:c1 null->online', 'close:c1 online->offline']);
    const [last] = await listTransitions(h.db, 'agent-1', { limit: 1 });
    expect(last).toMatchObject({ reason: 'agent_disconnect', at: iso(T0 + 90_500), connectionId: 'c1' });
  });

  it('reconnect race: conn1 open, conn2 open, conn1 close late -> online on conn2, both rows paired', async () => {
    await apply(
      [opened('c1', 1, { at: T0, gatewayId: 'gw-a' })],
      [opened('c2', 2, { at: T0 + 5_000, gatewayId: 'gw-b' })],
      [closed('c1', 1, { at: T0 + 6_000, gatewayId: 'gw-a', reason: 'heartbeat_timeout' })],
    );
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'online',
      currentConnectionId: 'c2',
      connectionEpoch: 2,
      lastConnectedAt: iso(T0 + 5_000),
      lastDisconnectedAt: null,
    });
    const history = await listHistory(h.db, 'agent-1');
    expect(history.map((r) => [r.connectionId, r.gatewayId, r.durationSeconds, r.disconnectReason])).toEqual([
      ['c2', 'gw-b', null, null],
      ['c1', 'gw-a', 6, 'heartbeat_timeout'],
    ]);
    expect(await transitionsOf()).toEqual(['open:c1 null->online']);

    await apply([closed('c2', 2, { at: T0 + 9_000, reason: 'agent_disconnect' })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      statusReason: 'agent_disconnect',
    });
    expect(await transitionsOf()).toEqual(['open:c1 null->online', 'close:c2 online->offline']);
  });

  it('the same race inside one batch, in any order, gives the same result without an offline blip', async () => {
    const events = [
      closed('c1', 1, { at: T0 + 6_000 }),
      opened('c2', 2, { at: T0 + 5_000 }),
      opened('c1', 1, { at: T0 }),
    ];
    await apply(events);
    const first = await dumpTables(h.db);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({ status: 'online', currentConnectionId: 'c2' });
    expect(await transitionsOf()).toEqual(['open:c1 null->online']);
    await truncateTables(h.db);
    await apply([events[2]!, events[1]!, events[0]!]);
    expect(await dumpTables(h.db)).toEqual(first);
  });

  it('close before open (separate batches): created offline, history completed, never online', async () => {
    await apply([closed('c1', 3, { at: T0 + 20_000, reason: 'connection_closed' })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      statusChangedAt: null,
      statusReason: null,
      connectionEpoch: 3,
      currentConnectionId: 'c1',
      lastDisconnectedAt: iso(T0 + 20_000),
      disconnectReason: 'connection_closed',
      lastConnectedAt: null,
    });
    expect((await listHistory(h.db, 'agent-1'))[0]).toMatchObject({
      connectedAt: null,
      durationSeconds: null,
    });

    await apply([opened('c1', 3, { at: T0, transport: 'http' })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      lastConnectedAt: iso(T0),
      transport: 'http',
      connectionEpoch: 3,
    });
    expect((await listHistory(h.db, 'agent-1'))[0]).toMatchObject({
      connectedAt: iso(T0),
      disconnectedAt: iso(T0 + 20_000),
      durationSeconds: 20,
      transport: 'http',
      remoteAddress: '10.0.0.1',
      disconnectReason: 'connection_closed',
    });
    expect(await transitionsOf()).toEqual([]);
  });

  it('a transient close (gateway_shutdown, reconnect_requested) ends history only: the agent stays online', async () => {
    const events = [
      opened('c1', 1, { at: T0 }),
      closed('c1', 1, { at: T0 + 20_000, reason: 'gateway_shutdown' }),
      opened('c2', 2, { at: T0 + 21_000 }),
      closed('c2', 2, { at: T0 + 40_000, reason: 'reconnect_requested' }),
    ];
    for (const e of events) await apply([e]);
    const inOrder = await dumpTables(h.db);
    // what any arrival order ends with (status_changed_at records when a change was applied)
    const settled = async () => {
      const a = await getAgent(h.db, 'agent-1');
      return [
        a?.status,
        a?.currentConnectionId,
        a?.connectionEpoch,
        a?.lastDisconnectedAt,
        a?.disconnectReason,
      ];
    };
    const expected = await settled();
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'online',
      statusReason: 'connected',
      currentConnectionId: 'c2',
      connectionEpoch: 2,
      lastDisconnectedAt: null,
      disconnectReason: null,
    });
    expect(await transitionsOf()).toEqual(['open:c1 null->online']);
    expect((await listHistory(h.db, 'agent-1')).map((r) => r.disconnectReason)).toEqual([
      'reconnect_requested',
      'gateway_shutdown',
    ]);
    for (const order of [
      [3, 2, 1, 0],
      [1, 3, 0, 2],
    ]) {
      await truncateTables(h.db);
      for (const i of order) await apply([events[i]!]);
      expect(await settled()).toEqual(expected);
      expect((await dumpTables(h.db)).history).toEqual(inOrder.history);
    }

    // a close for another reason takes it offline
    await apply([opened('c3', 3, { at: T0 + 50_000 }), closed('c3', 3, { at: T0 + 60_000 })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      disconnectReason: 'connection_closed',
    });
  });

  it('open and close of one connection in one batch give both transitions, in either order', async () => {
    await apply([closed('c1', 1, { at: T0 + 1_000 }), opened('c1', 1, { at: T0 })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({ status: 'offline', currentConnectionId: 'c1' });
    expect(await transitionsOf()).toEqual(['open:c1 null->online', 'close:c1 online->offline']);
    expect((await listHistory(h.db, 'agent-1'))[0]?.durationSeconds).toBe(1);
  });

  it('a newer close supersedes the current connection; an older open changes only history', async () => {
    // c3's open never arrived (yet): its close still means the agent left c2 and then c3.
    await apply([opened('c2', 2, { at: T0 })], [closed('c3', 3, { at: T0 + 7_000, reason: 'replaced' })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      statusReason: 'replaced',
      currentConnectionId: 'c3',
      connectionEpoch: 3,
      lastConnectedAt: iso(T0),
    });
    expect(await transitionsOf()).toEqual(['open:c2 null->online', 'close:c3 online->offline']);
    // The late close of c2 and the open of an older connection change nothing but their history rows.
    await apply([closed('c2', 2, { at: T0 + 8_000 })], [opened('c1', 1, { at: T0 - 1 })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      currentConnectionId: 'c3',
      lastConnectedAt: iso(T0),
      lastDisconnectedAt: iso(T0 + 7_000),
    });
    expect((await listHistory(h.db, 'agent-1')).map((r) => r.connectionId)).toEqual(['c2', 'c1', 'c3']);
    expect(await transitionsOf()).toHaveLength(2);
  });

  it('a close ends an agent in error too, and a reconnect brings it online', async () => {
    await apply([opened('c1', 1)]);
    await h.db.execute(
      sql`update agents set status = 'error', status_reason = 'unhealthy' where id = 'agent-1'`,
    );
    await apply([closed('c1', 1, { reason: 'agent_disconnect' })], [opened('c2', 2, { at: T0 + 500_000 })]);
    expect(await transitionsOf()).toEqual([
      'open:c1 null->online',
      'close:c1 error->offline',
      'open:c2 offline->online',
    ]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'online',
      statusChangedAt: iso(T0 + 500_000),
    });
  });

  it('a late close of an agent the sweeper moved offline, then to error, keeps it in error', async () => {
    await apply([opened('c1', 1)]);
    const offlineAt = T0 + 120_000;
    const mark = await markOffline(h.db, [{ agentId: 'agent-1', lastSeenMs: null, connectionEpoch: 1 }], {
      reason: 'heartbeat_timeout',
      atMs: offlineAt,
    });
    expect(mark.agents).toEqual([{ agentId: 'agent-1', connectionId: 'c1', transport: 'ws' }]);
    const erroredAt = offlineAt + 600_000;
    const err = await markError(h.db, {
      reason: 'offline_too_long',
      atMs: erroredAt,
      beforeMs: offlineAt,
      limit: 10,
    });
    expect(err.agentIds).toEqual(['agent-1']);
    // the gateway's close of the timed-out socket arrives only now
    await apply([closed('c1', 1, { at: erroredAt + 1_000, reason: 'heartbeat_timeout' })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'error',
      statusReason: 'offline_too_long',
      statusChangedAt: iso(erroredAt),
      lastDisconnectedAt: iso(erroredAt + 1_000),
      disconnectReason: 'heartbeat_timeout',
    });
    const brief = async () =>
      (await listTransitions(h.db, 'agent-1')).reverse().map((t) => `${t.fromStatus}->${t.toStatus}`);
    expect(await brief()).toEqual(['null->online', 'online->offline', 'offline->error']);
    // error is left by a reconnect only
    await apply([opened('c2', 2, { at: erroredAt + 5_000 })]);
    expect((await getAgent(h.db, 'agent-1'))?.status).toBe('online');
    expect(await brief()).toEqual(['null->online', 'online->offline', 'offline->error', 'error->online']);
  });

  it('a close of a newer connection (its open not yet seen) takes an errored agent offline', async () => {
    await apply([opened('c1', 1)]);
    await markOffline(h.db, [{ agentId: 'agent-1', lastSeenMs: null, connectionEpoch: 1 }], {
      reason: 'heartbeat_timeout',
      atMs: T0 + 120_000,
    });
    await markError(h.db, {
      reason: 'offline_too_long',
      atMs: T0 + 720_000,
      beforeMs: T0 + 120_000,
      limit: 10,
    });
    await apply([closed('c2', 2, { at: T0 + 800_000, reason: 'agent_disconnect' })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      statusReason: 'agent_disconnect',
      currentConnectionId: 'c2',
    });
    expect(await transitionsOf()).toContain('close:c2 error->offline');
  });

  it("the gateway's close of a connection the sweeper timed out leaves the agent row as the sweeper wrote it", async () => {
    await apply([opened('c1', 1)]);
    const decidedAt = T0 + 120_000;
    await markOffline(h.db, [{ agentId: 'agent-1', lastSeenMs: null, connectionEpoch: 1 }], {
      reason: 'heartbeat_timeout',
      atMs: decidedAt,
    });
    const before = await dumpTables(h.db, { physical: true });
    // the close command is carried out: the gateway reports the close of c1 with the same reason
    const result = await applyConnectionEvents(h.db, [
      closed('c1', 1, { at: decidedAt + 40, reason: 'heartbeat_timeout' }),
    ]);
    expect(result).toEqual({ agentsCreated: 0, agentsUpdated: 0, historyRowsWritten: 0, transitions: 0 });
    expect(await dumpTables(h.db, { physical: true })).toEqual(before);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      statusReason: 'heartbeat_timeout',
      lastDisconnectedAt: iso(decidedAt),
      disconnectReason: 'heartbeat_timeout',
    });
    expect((await listHistory(h.db, 'agent-1'))[0]).toMatchObject({
      disconnectedAt: iso(decidedAt),
      disconnectReason: 'heartbeat_timeout',
    });
    // a close of that connection for another reason still records it, without a transition
    await apply([closed('c1', 1, { at: decidedAt + 50, reason: 'connection_closed' })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      lastDisconnectedAt: iso(decidedAt + 50),
      disconnectReason: 'connection_closed',
    });
    expect(await transitionsOf()).toEqual(['open:c1 null->online', 'timeout:agent-1:1:none online->offline']);
  });

  it('a close after the agent was already marked offline records the disconnect without a transition', async () => {
    await apply([opened('c1', 1)]);
    await h.db.execute(
      sql`update agents set status = 'offline', status_reason = 'heartbeat_timeout' where id = 'agent-1'`,
    );
    await apply([closed('c1', 1, { at: T0 + 3_600_000, reason: 'connection_closed' })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      statusReason: 'heartbeat_timeout',
      lastDisconnectedAt: iso(T0 + 3_600_000),
      disconnectReason: 'connection_closed',
    });
    expect(await transitionsOf()).toEqual(['open:c1 null->online']);
  });

  it('an open while online (new connection) switches the connection without a transition', async () => {
    await apply([opened('c1', 1, { transport: 'ws' })], [opened('c2', 5, { transport: 'http', at: T0 + 1 })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'online',
      statusChangedAt: iso(opened('c1', 1).at),
      currentConnectionId: 'c2',
      connectionEpoch: 5,
      transport: 'http',
      lastConnectedAt: iso(T0 + 1),
    });
    expect(await transitionsOf()).toEqual(['open:c1 null->online']);
  });
});
