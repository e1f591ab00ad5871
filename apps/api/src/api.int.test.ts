import { createCommandBus, type GatewayCommand } from '@opamp-fleet/presence';
import { eventually } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_HASH, FLEET, HEALTH } from './testing/fleet.js';
import type { InProcessApi } from './testing/in-process.js';
import { type SeededApi, startSeededApi } from './testing/seeded.js';

const TOKEN = 'test-token-1';
let seeded: SeededApi;
let h: InProcessApi;
let nowMs: number;
let redisFx: SeededApi['redis'];

beforeAll(async () => {
  seeded = await startSeededApi({
    API_AUTH_TOKENS: `other,${TOKEN}`,
    API_MAX_PAGE_SIZE: '50',
    API_DEFAULT_PAGE_SIZE: '20',
  });
  ({ h, nowMs, redis: redisFx } = seeded);
});
afterAll(async () => {
  await seeded?.stop();
});

async function get(url: string, token: string | null = TOKEN) {
  const res = await h.api.app.inject({
    method: 'GET',
    url,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

const post = (url: string) =>
  h.api.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}` } });

describe('GET /api/v1/agents/:id/status', () => {
  it('answers a fresh online agent with its gateway from the registry', async () => {
    const { status, body } = await get(`/api/v1/agents/${FLEET.fresh.toUpperCase()}/status`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: FLEET.fresh,
      status: 'online',
      stored_status: 'online',
      stale: false,
      status_reason: 'connected',
      last_seen_source: 'redis',
      connected: true,
      gateway_id: 'gw-a',
      connection_id: 'conn-fresh',
      transport: 'ws',
      presence_available: true,
    });
    expect(Date.parse(body.last_seen_at)).toBeGreaterThanOrEqual(nowMs - 1000);
  });

  it('reads an expired online agent as offline (stale) with no sweeper, and trusts a fresher Redis score', async () => {
    const stale = (await get(`/api/v1/agents/${FLEET.stale}/status`)).body;
    expect(stale).toMatchObject({
      status: 'offline',
      stored_status: 'online',
      stale: true,
      status_reason: 'heartbeat_timeout',
      last_seen_source: 'redis',
      connected: false,
      gateway_id: null,
    });
    const fresh = (await get(`/api/v1/agents/${FLEET.redisFresh}/status`)).body;
    expect(fresh).toMatchObject({ status: 'online', stale: false, last_seen_source: 'redis' });
  });

  it('answers an offline agent with its disconnect, and 404 for an unknown one', async () => {
    expect((await get(`/api/v1/agents/${FLEET.closed}/status`)).body).toMatchObject({
      status: 'offline',
      stale: false,
      disconnect_reason: 'connection_closed',
      last_disconnected_at: new Date(nowMs - 60_000).toISOString(),
    });
    const missing = await get(`/api/v1/agents/${FLEET.unknown}/status`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('agent_not_found');
  });
});

describe('GET /api/v1/agents/:id', () => {
  it('answers the full record', async () => {
    const { status, body } = await get(`/api/v1/agents/${FLEET.fresh}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      description: {
        identifying: { 'service.name': 'checkout', 'service.instance.id': 'i-1' },
        non_identifying: { 'host.name': 'node-1', 'os.type': 'linux' },
      },
      capabilities: 0x2001,
      health: HEALTH,
      effective_config_hash: CONFIG_HASH,
      current_connection_id: 'conn-fresh',
      last_sequence_num: 3,
      connected: true,
    });
  });
});

describe('history and transitions', () => {
  it('pages the connection history newest first without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const { status, body } = await get(
        `/api/v1/agents/${FLEET.disconnected}/connection-history?limit=3${q}`,
      );
      expect(status).toBe(200);
      seen.push(...body.items.map((c: { connection_id: string }) => c.connection_id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['conn-d6', 'conn-d5', 'conn-d4', 'conn-d3', 'conn-d2', 'conn-d1', 'conn-d0']);
  });

  it('pages transitions newest first', async () => {
    const first = await get(`/api/v1/agents/${FLEET.disconnected}/transitions?limit=5`);
    expect(first.body.items).toHaveLength(5);
    expect(first.body.items[0]).toMatchObject({
      from_status: 'online',
      to_status: 'offline',
      reason: 'agent_disconnect',
    });
    const rest = await get(
      `/api/v1/agents/${FLEET.disconnected}/transitions?limit=50&cursor=${first.body.next_cursor}`,
    );
    expect(rest.body.items).toHaveLength(9);
    expect(rest.body.next_cursor).toBeNull();
    expect((await get(`/api/v1/agents/${FLEET.unknown}/transitions`)).status).toBe(404);
  });
});

describe('GET /api/v1/agents', () => {
  const ids = (body: { items: { id: string }[] }) => body.items.map((a) => a.id);

  it('pages every agent by id and filters by read-time status', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const { body }: { body: { items: { id: string }[]; next_cursor: string | null } } = await get(
        `/api/v1/agents?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      all.push(...ids(body));
      cursor = body.next_cursor;
    } while (cursor);
    expect(all).toEqual([
      FLEET.fresh,
      FLEET.stale,
      FLEET.redisFresh,
      FLEET.disconnected,
      FLEET.closed,
      FLEET.broken,
      FLEET.orphaned,
    ]);
    expect(ids((await get('/api/v1/agents?status=online')).body)).toEqual([
      FLEET.fresh,
      FLEET.redisFresh,
      FLEET.orphaned,
    ]);
    expect(ids((await get('/api/v1/agents?status=offline')).body)).toEqual([
      FLEET.stale,
      FLEET.disconnected,
      FLEET.closed,
    ]);
    expect(ids((await get('/api/v1/agents?status=error')).body)).toEqual([FLEET.broken]);
  });

  it('filters by identifying and non-identifying attributes', async () => {
    expect(ids((await get('/api/v1/agents?attr.service.name=checkout')).body)).toEqual([FLEET.fresh]);
    expect(ids((await get('/api/v1/agents?attr.host.name=node-1')).body)).toEqual([FLEET.fresh, FLEET.stale]);
    expect(ids((await get('/api/v1/agents?attr.host.name=node-1&status=offline')).body)).toEqual([
      FLEET.stale,
    ]);
    expect(ids((await get('/api/v1/agents?attr.host.name=node-2')).body)).toEqual([]);
    const many = Array.from({ length: 11 }, (_, i) => `attr.k${i}=v`).join('&');
    expect((await get(`/api/v1/agents?${many}`)).status).toBe(400);
  });
});

describe('GET /api/v1/agents/offline', () => {
  it('lists offline and stale agents, most recently offline first, with filters', async () => {
    const { body } = await get('/api/v1/agents/offline?limit=2');
    expect(body.items.map((a: { id: string }) => a.id)).toEqual([FLEET.closed, FLEET.disconnected]);
    const rest = await get(`/api/v1/agents/offline?limit=50&cursor=${body.next_cursor}`);
    expect(rest.body.items.map((a: { id: string }) => a.id)).toEqual([FLEET.stale]);
    expect(rest.body.items[0]).toMatchObject({
      stale: true,
      offline_since: new Date(nowMs - 4 * 60_000).toISOString(),
    });
    const reason = await get('/api/v1/agents/offline?reason=heartbeat_timeout');
    expect(reason.body.items.map((a: { id: string }) => a.id)).toEqual([FLEET.stale]);
    const since = new Date(nowMs - 2 * 60_000).toISOString();
    const recent = await get(`/api/v1/agents/offline?since=${encodeURIComponent(since)}`);
    expect(recent.body.items.map((a: { id: string }) => a.id)).toEqual([FLEET.closed]);
  });
});

describe('GET /api/v1/fleet/summary', () => {
  it('counts by read-time status', async () => {
    const { body } = await get('/api/v1/fleet/summary');
    expect(body).toMatchObject({
      total: 7,
      stored_counts: { online: 4, offline: 2, error: 1 },
      counts: { online: 3, offline: 3, error: 1 },
      stale_online: 1,
      approximate: false,
      offline_timeout_seconds: 60,
      presence_available: true,
    });
  });
});

describe('POST /api/v1/agents/:id/reconnect', () => {
  it('delivers a close command to the owning gateway (202), else 404 or 409', async () => {
    const bus = createCommandBus({ redis: redisFx.client(), keyPrefix: redisFx.prefix });
    const received: GatewayCommand[] = [];
    const unsubscribe = await bus.subscribe('gw-a', (cmd) => {
      received.push(cmd);
    });
    try {
      const ok = await post(`/api/v1/agents/${FLEET.fresh}/reconnect`);
      expect(ok.statusCode).toBe(202);
      expect(ok.json()).toEqual({
        id: FLEET.fresh,
        gateway_id: 'gw-a',
        connection_id: 'conn-fresh',
        receivers: 1,
      });
      await eventually(() =>
        expect(received).toEqual([
          { type: 'close', agentId: FLEET.fresh, connectionId: 'conn-fresh', reason: 'reconnect_requested' },
        ]),
      );
      expect((await post(`/api/v1/agents/${FLEET.registryOnly}/reconnect`)).statusCode).toBe(202);
    } finally {
      await unsubscribe();
      await bus.close();
    }
    const unknown = await post(`/api/v1/agents/${FLEET.unknown}/reconnect`);
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'agent_not_found']);
    const offline = await post(`/api/v1/agents/${FLEET.closed}/reconnect`);
    expect([offline.statusCode, offline.json().error.code]).toEqual([409, 'not_connected']);
    const orphan = await post(`/api/v1/agents/${FLEET.orphaned}/reconnect`);
    expect([orphan.statusCode, orphan.json().error.message]).toEqual([
      409,
      expect.stringContaining('gw-gone'),
    ]);
    const metrics = await h.registry.getSingleMetricAsString('opamp_api_reconnect_requests_total');
    expect(metrics).toMatch(/result="delivered"[^}]*} 2/);
    expect(metrics).toMatch(/result="not_connected"[^}]*} 2/);
    expect(metrics).toMatch(/result="unknown_agent"[^}]*} 1/);
  });
});
