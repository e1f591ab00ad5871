import { withDatabase } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from './cursor.js';
import { FLEET } from './testing/fleet.js';
import { createInProcessApi, type InProcessApi } from './testing/in-process.js';
import { type SeededApi, startSeededApi } from './testing/seeded.js';

const TOKEN = 'test-token-1';
let seeded: SeededApi;
let h: InProcessApi;

beforeAll(async () => {
  seeded = await startSeededApi({
    API_AUTH_TOKENS: `other,${TOKEN}`,
    API_MAX_PAGE_SIZE: '50',
    API_DEFAULT_PAGE_SIZE: '20',
  });
  h = seeded.h;
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

describe('auth, validation and errors', () => {
  it('answers 401 with WWW-Authenticate without or with a wrong token', async () => {
    const none = await get(`/api/v1/agents/${FLEET.fresh}/status`, null);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="opamp-fleet-api"');
    expect(none.body).toEqual({ error: { code: 'unauthorized', message: 'a bearer token is required' } });
    expect(none.headers['cache-control']).toBe('no-store');
    const wrong = await get('/api/v1/fleet/summary', 'test-token-2');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    expect((await get('/api/v1/fleet/summary', 'other')).status).toBe(200);
    expect((await get('/api/v1/openapi.json', null)).status).toBe(200);
  });

  it('answers 400 with details for every invalid input', async () => {
    const cases: [string, string][] = [
      ['/api/v1/agents/not-a-uuid/status', 'params'],
      ['/api/v1/agents?limit=51', 'querystring'],
      ['/api/v1/agents?limit=0', 'querystring'],
      ['/api/v1/agents?limit=ten', 'querystring'],
      ['/api/v1/agents?status=sleepy', 'querystring'],
      ['/api/v1/agents?colour=red', 'querystring'],
      ['/api/v1/agents/offline?since=yesterday', 'querystring'],
      ['/api/v1/agents?cursor=!!', 'querystring'],
    ];
    for (const [url, location] of cases) {
      const { status, body } = await get(url);
      expect([url, status, body.error.code]).toEqual([url, 400, 'bad_request']);
      expect(body.error.details[0].location).toBe(location);
    }
    const unknownParam = await get('/api/v1/agents?colour=red');
    expect(unknownParam.body.error.details[0]).toMatchObject({
      path: '/colour',
      message: 'unknown parameter colour',
    });
    for (const url of [
      `/api/v1/agents?cursor=${encodeCursor('offline', [1, 'x'])}`,
      `/api/v1/agents/offline?cursor=${encodeCursor('offline', ['x', 'x'])}`,
      `/api/v1/agents/${FLEET.fresh}/transitions?cursor=abc`,
    ]) {
      const { status, body } = await get(url);
      expect([status, body.error.code]).toEqual([400, 'invalid_cursor']);
    }
  });

  it('answers unknown routes with the error shape, and times requests by route template', async () => {
    const { status, body } = await get('/api/v1/nope');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
    const text = await h.registry.getSingleMetricAsString('opamp_api_request_duration_seconds');
    expect(text).toContain('route="/api/v1/agents/:id/status",method="GET",status="401"');
    expect(text).toContain('route="unmatched",method="GET",status="404"');
    expect(text).not.toContain(FLEET.fresh);
  });
});

describe('Redis unavailable', () => {
  it('answers reads from Postgres alone and refuses reconnects with 503', async () => {
    const down = createInProcessApi({
      ...seeded.env,
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    try {
      const status = await down.api.app.inject(`/api/v1/agents/${FLEET.fresh}/status`);
      expect(status.json()).toMatchObject({
        status: 'online',
        last_seen_source: 'postgres',
        connected: null,
        presence_available: false,
      });
      const summary = await down.api.app.inject('/api/v1/fleet/summary');
      expect(summary.json()).toMatchObject({ presence_available: false, stale_online: 2 });
      const list = await down.api.app.inject('/api/v1/agents?status=online');
      expect(list.json().presence_available).toBe(false);
      // stale candidates from a scan of Postgres' online agents instead of the Redis last-seen set
      const offline = (await down.api.app.inject('/api/v1/agents/offline')).json();
      expect(offline.items.map((a: { id: string }) => a.id)).toEqual([
        FLEET.closed,
        FLEET.disconnected,
        FLEET.stale,
        FLEET.redisFresh,
      ]);
      const reconnect = await down.api.app.inject({
        method: 'POST',
        url: `/api/v1/agents/${FLEET.fresh}/reconnect`,
      });
      expect([reconnect.statusCode, reconnect.json().error.code]).toEqual([503, 'unavailable']);
      expect(await down.registry.getSingleMetricAsString('opamp_api_presence_fallbacks_total')).toMatch(
        / [1-9]\d*$/m,
      );
    } finally {
      await down.stop();
    }
  });
});

describe('failures and real ports', () => {
  it('answers body errors and an unreachable Postgres with the error shape', async () => {
    const badJson = await h.api.app.inject({
      method: 'POST',
      url: `/api/v1/agents/${FLEET.fresh}/reconnect`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: '{bad',
    });
    expect([badJson.statusCode, badJson.json().error.code]).toEqual([400, 'bad_request']);
    const media = await h.api.app.inject({
      method: 'POST',
      url: `/api/v1/agents/${FLEET.fresh}/reconnect`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/xml' },
      payload: '<x/>',
    });
    expect([media.statusCode, media.json().error.code]).toEqual([415, 'unsupported_media_type']);
    const broken = createInProcessApi({
      ...seeded.env,
      DATABASE_URL: withDatabase(seeded.pg.url, `${seeded.pg.database}_missing`),
    });
    try {
      const res = await broken.api.app.inject(`/api/v1/agents/${FLEET.fresh}/status`);
      expect([res.statusCode, res.json()]).toEqual([
        500,
        { error: { code: 'internal', message: 'internal error' } },
      ]);
    } finally {
      await broken.stop();
    }
  });

  it('listens on a real port next to its ops port, and closes idempotently', async () => {
    const real = createInProcessApi(seeded.env);
    try {
      expect(real.api.port).toBeNull();
      await real.api.listen();
      const ops = `http://127.0.0.1:${real.api.opsPort}`;
      expect(real.api.port).not.toBe(real.api.opsPort);
      expect((await fetch(`${ops}/readyz`)).status).toBe(200);
      const res = await fetch(`http://127.0.0.1:${real.api.port}/api/v1/agents/${FLEET.fresh}/status`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id: FLEET.fresh, status: 'online' });
      expect(await (await fetch(`${ops}/metrics`)).text()).toContain(
        'opamp_api_request_duration_seconds_bucket',
      );
      await Promise.all([real.api.close(), real.api.close()]);
      await expect(fetch(`${ops}/readyz`)).rejects.toThrow();
    } finally {
      await real.stop();
    }
  });
});
