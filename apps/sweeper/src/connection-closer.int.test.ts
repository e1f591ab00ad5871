import { applyConnectionEvents, flushLastSeen, getAgent, listHistory } from '@opamp-fleet/db';
import { opened } from '@opamp-fleet/db/testing';
import {
  createCommandBus,
  createConnectionRegistry,
  createSessionStore,
  type GatewayCommand,
} from '@opamp-fleet/presence';
import { eventually } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryCloser } from './connection-closer.js';
import {
  EXPIRED,
  type Harness,
  metricValue,
  OPENED,
  resetHarness,
  seedOnline,
  startHarness,
  T,
  testSweeper,
  touch,
} from './testing/harness.js';

let hx: Harness;

beforeAll(async () => {
  hx = await startHarness();
});
afterAll(async () => {
  await hx?.stop();
});
beforeEach(() => resetHarness(hx));

describe('closing sockets of timed-out agents', () => {
  it('asks the owning gateway to close exactly that connection; releases owners of gone gateways', async () => {
    await seedOnline(hx.h, ['held', 'orphan', 'moved'], OPENED, T);
    const registry = createConnectionRegistry({ redis: hx.redis, keyPrefix: hx.prefix });
    await registry.claim('held', { gatewayId: 'gw-live', connectionId: 'held/c1' });
    await registry.claim('orphan', { gatewayId: 'gw-dead', connectionId: 'orphan/c1' });
    await registry.claim('moved', { gatewayId: 'gw-live', connectionId: 'moved/c9' });
    await registry.claim('rebound', { gatewayId: 'gw-live', connectionId: 'rebound' });
    // (a claim writes a last-seen of now: the silence that follows is set up after it)
    await touch(hx.redis, hx.lastSeenKey, ['held', 'orphan', 'moved'], T);
    // a socket's second binding is recorded as '<socket id>.1'
    await seedOnline(hx.h, ['rebound'], OPENED, T);
    await applyConnectionEvents(hx.h.db, [opened('rebound.1', 2, { agentId: 'rebound', at: OPENED + 1 })]);
    await touch(hx.redis, hx.lastSeenKey, ['rebound'], T);
    const bus = createCommandBus({ redis: hx.redis, keyPrefix: hx.prefix });
    const received: GatewayCommand[] = [];
    await bus.subscribe('gw-live', (cmd) => {
      received.push(cmd);
    });
    const closer = createRegistryCloser({
      redis: hx.redis,
      keyPrefix: hx.prefix,
      bus,
      registry,
      sessions: createSessionStore({ redis: hx.redis, keyPrefix: hx.prefix }),
      reason: 'heartbeat_timeout',
    });
    const s = testSweeper(hx, {}, { closer });
    expect(await s.sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 4 });
    await eventually(() => expect(received).toHaveLength(2));
    expect(received.sort((a, b) => a.agentId.localeCompare(b.agentId))).toEqual([
      { type: 'close', agentId: 'held', connectionId: 'held/c1', reason: 'heartbeat_timeout' },
      { type: 'close', agentId: 'rebound', connectionId: 'rebound', reason: 'heartbeat_timeout' },
    ]);
    expect(await registry.lookup('orphan')).toBeNull();
    expect(await registry.lookup('moved')).toEqual({ gatewayId: 'gw-live', connectionId: 'moved/c9' });
    expect(await metricValue(s.registry, 'opamp_sweeper_close_commands_total', { result: 'sent' })).toBe(2);
    expect(await metricValue(s.registry, 'opamp_sweeper_close_commands_total', { result: 'orphaned' })).toBe(
      1,
    );
    expect(await metricValue(s.registry, 'opamp_sweeper_close_commands_total', { result: 'skipped' })).toBe(
      1,
    );
    await bus.close();
  });

  it('releases the owner of a gone gateway only while it still holds the agent (compare-and-delete)', async () => {
    await seedOnline(hx.h, ['orphan'], OPENED, T);
    await touch(hx.redis, hx.lastSeenKey, ['orphan'], T);
    const registry = createConnectionRegistry({ redis: hx.redis, keyPrefix: hx.prefix });
    const stale = { gatewayId: 'gw-dead', connectionId: 'orphan/c1' };
    const fresh = { gatewayId: 'gw-new', connectionId: 'orphan-new' };
    await registry.claim('orphan', stale);
    const sent: GatewayCommand[] = [];
    const closer = createRegistryCloser({
      redis: hx.redis,
      keyPrefix: hx.prefix,
      // nobody listens on gw-dead; the agent reconnects elsewhere while the command is in flight
      bus: {
        async send(_gatewayId, cmd) {
          sent.push(cmd);
          await registry.claim('orphan', fresh);
          return 0;
        },
      },
      registry,
      sessions: createSessionStore({ redis: hx.redis, keyPrefix: hx.prefix }),
      reason: 'heartbeat_timeout',
    });
    const summary = await closer.close([{ agentId: 'orphan', connectionId: 'orphan/c1', transport: 'ws' }]);
    expect(summary).toMatchObject({ orphaned: 1, failed: 0 });
    expect(sent).toHaveLength(1);
    expect(await registry.lookup('orphan')).toEqual(fresh);
    // without the race the stale owner goes
    await registry.claim('orphan', stale);
    const plain = createRegistryCloser({
      redis: hx.redis,
      keyPrefix: hx.prefix,
      bus: { send: async () => 0 },
      registry,
      sessions: createSessionStore({ redis: hx.redis, keyPrefix: hx.prefix }),
      reason: 'heartbeat_timeout',
    });
    await plain.close([{ agentId: 'orphan', connectionId: 'orphan/c1', transport: 'ws' }]);
    expect(await registry.lookup('orphan')).toBeNull();
  });

  it('ends the plain-HTTP session taken offline, so the next poll opens a new one; a newer session stays', async () => {
    const sessions = createSessionStore({ redis: hx.redis, keyPrefix: hx.prefix });
    const poll = (agentId: string, connectionId: string, seq: number) =>
      sessions.advance(agentId, {
        sequenceNum: seq,
        capabilities: 1,
        fields: {},
        via: { transport: 'http', connectionId },
      });
    const first = await poll('h-silent', 'req-1', 1);
    expect(first.httpOpened).toBe(true);
    await poll('h-moved', 'req-a', 1);
    await applyConnectionEvents(hx.h.db, [
      opened('req-1', first.httpSession!.epoch, { agentId: 'h-silent', at: OPENED, transport: 'http' }),
      opened('req-old', 1, { agentId: 'h-moved', at: OPENED, transport: 'http' }),
    ]);
    await touch(hx.redis, hx.lastSeenKey, ['h-silent', 'h-moved'], T);
    const bus = { send: async () => 1 };
    const registry = createConnectionRegistry({ redis: hx.redis, keyPrefix: hx.prefix });
    const closer = createRegistryCloser({
      redis: hx.redis,
      keyPrefix: hx.prefix,
      bus,
      registry,
      sessions,
      reason: 'heartbeat_timeout',
    });
    const s = testSweeper(hx, {}, { closer });
    expect(await s.sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 2 });
    expect(await getAgent(hx.h.db, 'h-silent')).toMatchObject({
      status: 'offline',
      statusReason: 'heartbeat_timeout',
    });
    expect((await listHistory(hx.h.db, 'h-silent'))[0]).toMatchObject({
      disconnectReason: 'heartbeat_timeout',
    });
    expect((await sessions.load('h-silent'))?.httpSession).toBeNull();
    expect((await sessions.load('h-moved'))?.httpSession?.connectionId).toBe('req-a');
    expect(
      await metricValue(s.registry, 'opamp_sweeper_close_commands_total', { result: 'session_ended' }),
    ).toBe(1);
    expect(await metricValue(s.registry, 'opamp_sweeper_close_commands_total', { result: 'skipped' })).toBe(
      1,
    );
    // the agent polls again: a new session with a newer epoch
    const again = await poll('h-silent', 'req-2', 2);
    expect(again.httpOpened).toBe(true);
    expect(again.httpSession!.epoch).toBeGreaterThan(first.httpSession!.epoch);
  });

  it('ends again the connection of an agent still heartbeating after a lost close command', async () => {
    await seedOnline(hx.h, ['zombie', 'late', 'back'], OPENED, T);
    const registry = createConnectionRegistry({ redis: hx.redis, keyPrefix: hx.prefix });
    for (const id of ['zombie', 'late', 'back']) {
      await registry.claim(id, { gatewayId: 'gw-live', connectionId: `${id}/c1` });
    }
    await touch(hx.redis, hx.lastSeenKey, ['zombie', 'late', 'back'], T);
    const bus = createCommandBus({ redis: hx.redis, keyPrefix: hx.prefix });
    const received: GatewayCommand[] = [];
    await bus.subscribe('gw-live', (cmd) => {
      received.push(cmd);
    });
    let publishFails = true; // the first close commands are lost: the publish fails
    const closer = createRegistryCloser({
      redis: hx.redis,
      keyPrefix: hx.prefix,
      bus: {
        send: (gatewayId, cmd) =>
          publishFails ? Promise.reject(new Error('redis hiccup')) : bus.send(gatewayId, cmd),
      },
      registry,
      sessions: createSessionStore({ redis: hx.redis, keyPrefix: hx.prefix }),
      reason: 'heartbeat_timeout',
    });
    const s = testSweeper(hx, {}, { closer });
    expect(await s.sweeper.runOnce(EXPIRED)).toMatchObject({ offline: 3 });
    expect(await metricValue(s.registry, 'opamp_sweeper_close_commands_total', { result: 'failed' })).toBe(3);
    publishFails = false;

    // zombie keeps heartbeating on its socket; late was seen once just after (within the grace);
    // back reconnected (a new connection: online again)
    await flushLastSeen(hx.h.db, ['zombie', 'late'], [EXPIRED + 5500, EXPIRED + 3000]);
    await applyConnectionEvents(hx.h.db, [opened('back/c2', 2, { agentId: 'back', at: EXPIRED + 1000 })]);
    await flushLastSeen(hx.h.db, ['back'], [EXPIRED + 5500]);
    expect(await s.sweeper.runOnce(EXPIRED + 4000)).toMatchObject({ offline: 0, complete: true });
    expect(await metricValue(s.registry, 'opamp_sweeper_seen_while_offline_total')).toBe(0); // not due yet

    expect(await s.sweeper.runOnce(EXPIRED + 6000)).toMatchObject({ offline: 0, complete: true });
    await eventually(() => expect(received).toHaveLength(1));
    expect(received).toEqual([
      { type: 'close', agentId: 'zombie', connectionId: 'zombie/c1', reason: 'heartbeat_timeout' },
    ]);
    expect(await metricValue(s.registry, 'opamp_sweeper_seen_while_offline_total')).toBe(1);
    expect(await metricValue(s.registry, 'opamp_sweeper_close_commands_total', { result: 'sent' })).toBe(1);
    expect((await getAgent(hx.h.db, 'zombie'))?.status).toBe('offline'); // online again once it reconnects
    await bus.close();
  });
});
