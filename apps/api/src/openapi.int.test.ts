/**
 * The served OpenAPI document against the actual responses: every operation is called for each of
 * its documented statuses, and every body is validated with the response schema the
 * document gives for that status. A response whose status is not documented fails.
 */
import { migrate } from '@opamp-fleet/db';
import { createCommandBus } from '@opamp-fleet/presence';
import {
  type PostgresFixture,
  postgresFixture,
  type RedisFixture,
  redisFixture,
  withDatabase,
} from '@opamp-fleet/testkit';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from './api.js';
import { FLEET, seedFleet } from './testing/fleet.js';
import { createInProcessApi, type InProcessApi } from './testing/in-process.js';

const TOKEN = 'conformance-token';
const DOC_ID = 'https://opamp-fleet.test/openapi.json';
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  security: unknown[];
};

let pg: PostgresFixture;
let redisFx: RedisFixture;
let up: InProcessApi;
let down: InProcessApi;
/** Its Postgres database does not exist: every query fails. */
let broken: InProcessApi;
let doc: Doc;
const ajv = new Ajv2020({ strict: false, validateSchema: false, allErrors: true });
(formats as unknown as (a: Ajv2020) => void)(ajv);
/** "operationId status" of every call made. */
const exercised = new Set<string>();

beforeAll(async () => {
  [pg, redisFx] = await Promise.all([postgresFixture(), redisFixture()]);
  await migrate(pg.url);
  const env = { DATABASE_URL: pg.url, REDIS_KEY_PREFIX: redisFx.prefix, API_AUTH_TOKENS: TOKEN };
  up = createInProcessApi({ ...env, REDIS_URL: redisFx.url });
  down = createInProcessApi({ ...env, REDIS_URL: 'redis://127.0.0.1:1' });
  broken = createInProcessApi({
    ...env,
    REDIS_URL: redisFx.url,
    DATABASE_URL: withDatabase(pg.url, `${pg.database}_missing`),
  });
  const seeder = redisFx.client();
  const [s, us] = await seeder.time();
  await seedFleet(up.database.db, seeder, redisFx.prefix, Number(s) * 1000 + Math.floor(Number(us) / 1000));
  const res = await up.api.app.inject(OPENAPI_PATH);
  expect(res.statusCode).toBe(200);
  doc = res.json();
  ajv.addSchema(doc, DOC_ID);
});
afterAll(async () => {
  await Promise.all([up?.stop(), down?.stop(), broken?.stop()]);
  await Promise.all([redisFx?.stop(), pg?.stop()]);
});

const pointer = (...parts: string[]) =>
  parts.map((p) => encodeURIComponent(p.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/');

/** Calls `url` and validates the answer against the operation of `template` in the served document. */
async function call(
  method: 'get' | 'post',
  template: string,
  url: string,
  options: { token?: string | null; api?: InProcessApi } = {},
) {
  const token = options.token === undefined ? TOKEN : options.token;
  const res = await (options.api ?? up).api.app.inject({
    method: method.toUpperCase() as 'GET' | 'POST',
    url,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  const operation = doc.paths[template]?.[method];
  expect(operation, `${method} ${template} is documented`).toBeDefined();
  const status = String(res.statusCode);
  expect(Object.keys(operation!.responses), `${method} ${url} answered an undocumented ${status}`).toContain(
    status,
  );
  const validate = ajv.getSchema(
    `${DOC_ID}#/${pointer('paths', template, method, 'responses', status, 'content', 'application/json', 'schema')}`,
  );
  expect(validate, `schema of ${operation!.operationId} ${status}`).toBeDefined();
  const body = res.json();
  expect(validate!(body), `${method} ${url} -> ${status}: ${ajv.errorsText(validate!.errors)}`).toBe(true);
  exercised.add(`${operation!.operationId} ${status}`);
  return { status: res.statusCode, body, headers: res.headers };
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with bearer security and an operation id on every operation', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: { type: 'http', scheme: 'bearer' } });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(doc.paths)).not.toContain(OPENAPI_PATH);
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) expect(op.operationId).toMatch(/^[a-z][A-Za-z]+$/);
    }
  });

  it('has schemas strict enough to catch drift (a control)', () => {
    const status = ajv.getSchema(`${DOC_ID}#/components/schemas/AgentStatus`)!;
    const error = ajv.getSchema(`${DOC_ID}#/components/schemas/Error`)!;
    expect(error({ error: { code: 'x', message: 'y' } })).toBe(true);
    expect(error({ error: { code: 'x' } })).toBe(false);
    expect(error({ error: { code: 'x', message: 'y' }, extra: 1 })).toBe(false);
    expect(status({ id: 'x' })).toBe(false);
  });
});

describe('responses conform to the document', () => {
  const id = '/api/v1/agents/{id}';
  const bad = '/api/v1/agents/nope';
  const unknown = `/api/v1/agents/${FLEET.unknown}`;

  it('agent status and record', async () => {
    for (const agent of Object.values(FLEET).filter((a) => a !== FLEET.unknown && a !== FLEET.registryOnly)) {
      await call('get', `${id}/status`, `/api/v1/agents/${agent}/status`);
      await call('get', id, `/api/v1/agents/${agent}`);
      await call('get', id, `/api/v1/agents/${agent}`, { api: down });
    }
    await call('get', `${id}/status`, `/api/v1/agents/${FLEET.fresh}/status`, { api: down });
    for (const [template, suffix] of [
      [`${id}/status`, '/status'],
      [id, ''],
    ] as const) {
      expect((await call('get', template, `${bad}${suffix}`)).status).toBe(400);
      expect((await call('get', template, `${unknown}${suffix}`)).status).toBe(404);
      const denied = await call('get', template, `/api/v1/agents/${FLEET.fresh}${suffix}`, { token: null });
      expect(denied.headers['www-authenticate']).toMatch(/^Bearer /);
    }
  });

  it('history and transitions', async () => {
    for (const [template, suffix] of [
      [`${id}/connection-history`, '/connection-history'],
      [`${id}/transitions`, '/transitions'],
    ] as const) {
      const first = await call('get', template, `/api/v1/agents/${FLEET.disconnected}${suffix}?limit=2`);
      await call(
        'get',
        template,
        `/api/v1/agents/${FLEET.disconnected}${suffix}?cursor=${first.body.next_cursor}`,
      );
      await call('get', template, `/api/v1/agents/${FLEET.fresh}${suffix}`);
      await call('get', template, `/api/v1/agents/${FLEET.fresh}${suffix}?limit=9999`);
      await call('get', template, `/api/v1/agents/${FLEET.fresh}${suffix}?cursor=zz`);
      await call('get', template, `${unknown}${suffix}`);
      await call('get', template, `/api/v1/agents/${FLEET.fresh}${suffix}`, { token: 'wrong' });
    }
  });

  it('lists and summary', async () => {
    for (const q of ['', '?status=online', '?status=offline&limit=1', '?attr.service.name=checkout']) {
      await call('get', '/api/v1/agents', `/api/v1/agents${q}`);
      await call('get', '/api/v1/agents', `/api/v1/agents${q}`, { api: down });
    }
    await call('get', '/api/v1/agents', '/api/v1/agents?colour=red');
    await call('get', '/api/v1/agents', '/api/v1/agents', { token: null });
    for (const q of ['', '?limit=1', '?reason=heartbeat_timeout', '?since=2026-01-01T00:00:00Z']) {
      await call('get', '/api/v1/agents/offline', `/api/v1/agents/offline${q}`);
    }
    await call('get', '/api/v1/agents/offline', '/api/v1/agents/offline?since=now');
    await call('get', '/api/v1/agents/offline', '/api/v1/agents/offline', { token: null });
    await call('get', '/api/v1/fleet/summary', '/api/v1/fleet/summary');
    await call('get', '/api/v1/fleet/summary', '/api/v1/fleet/summary', { api: down });
    await call('get', '/api/v1/fleet/summary', '/api/v1/fleet/summary', { token: null });
  });

  it('reconnect', async () => {
    const bus = createCommandBus({ redis: redisFx.client(), keyPrefix: redisFx.prefix });
    const unsubscribe = await bus.subscribe('gw-a', () => {});
    try {
      expect((await call('post', `${id}/reconnect`, `/api/v1/agents/${FLEET.fresh}/reconnect`)).status).toBe(
        202,
      );
    } finally {
      await unsubscribe();
      await bus.close();
    }
    await call('post', `${id}/reconnect`, `${bad}/reconnect`);
    await call('post', `${id}/reconnect`, `${unknown}/reconnect`);
    await call('post', `${id}/reconnect`, `/api/v1/agents/${FLEET.closed}/reconnect`);
    await call('post', `${id}/reconnect`, `/api/v1/agents/${FLEET.fresh}/reconnect`, { token: null });
    await call('post', `${id}/reconnect`, `/api/v1/agents/${FLEET.fresh}/reconnect`, { api: down });
  });

  it('internal errors', async () => {
    const agent = `/api/v1/agents/${FLEET.fresh}`;
    for (const [method, template, url] of [
      ['get', `${id}/status`, `${agent}/status`],
      ['get', id, agent],
      ['get', `${id}/connection-history`, `${agent}/connection-history`],
      ['get', `${id}/transitions`, `${agent}/transitions`],
      ['get', '/api/v1/agents', '/api/v1/agents'],
      ['get', '/api/v1/agents/offline', '/api/v1/agents/offline'],
      ['get', '/api/v1/fleet/summary', '/api/v1/fleet/summary'],
      ['post', `${id}/reconnect`, `${unknown}/reconnect`],
    ] as const) {
      expect((await call(method, template, url, { api: broken })).status).toBe(500);
    }
  });

  it('covered every documented status of every operation', () => {
    const documented = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops).flatMap((op) => Object.keys(op.responses).map((s) => `${op.operationId} ${s}`)),
    );
    expect(documented.filter((d) => !exercised.has(d))).toEqual([]);
  });
});
