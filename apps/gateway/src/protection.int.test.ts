import { encodeAgentToServer, newInstanceUid } from '@opamp-fleet/opamp';
import { type RedisFixture, redisFixture, UpgradeRejectedError } from '@opamp-fleet/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './testing/harness.js';

let fx: RedisFixture;
let gw: TestGateway | undefined;

beforeAll(async () => {
  fx = await redisFixture();
});
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});
afterAll(async () => {
  await fx?.stop();
});

async function rejection(p: Promise<unknown>): Promise<UpgradeRejectedError> {
  const err = await p.then(
    () => {
      throw new Error('expected the upgrade to be rejected');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpgradeRejectedError);
  return err as UpgradeRejectedError;
}

async function keysUnder(prefix: string): Promise<string[]> {
  return gw!.redis.keys(`${prefix}*`);
}

describe('authentication', () => {
  it('refuses upgrades and polls without a valid bearer token with 401 and writes nothing to Redis', async () => {
    const prefix = `${fx.prefix}auth:`;
    gw = await startTestGateway(fx.url, prefix, { OPAMP_AUTH_TOKENS: 'alpha,beta' });
    const before = await keysUnder(prefix);
    expect((await rejection(gw.connect())).status).toBe(401);
    expect((await rejection(gw.connect({ token: 'wrong' }))).headers['www-authenticate']).toBe('Bearer');
    const poll = await fetch(gw.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer nope' },
      body: encodeAgentToServer({ instanceUid: newInstanceUid(), sequenceNum: 1, capabilities: 1 }),
    });
    expect(poll.status).toBe(401);
    expect(await keysUnder(prefix)).toEqual(before);
    expect(await gw.metric('opamp_gateway_rejected_requests_total', { reason: 'unauthorized' })).toBe(3);
    const agent = await gw.connect({ token: 'beta' });
    expect((await agent.send()).errorResponse).toBeNull();
    await agent.close();
  });
});

describe('overload protection', () => {
  it('caps concurrent connections with 503 + Retry-After', async () => {
    gw = await startTestGateway(fx.url, fx.prefix, {
      MAX_CONNECTIONS: '2',
      OVERLOAD_RETRY_AFTER_SECONDS: '42',
    });
    const a = await gw.connect();
    const b = await gw.connect();
    const err = await rejection(gw.connect());
    expect(err.status).toBe(503);
    expect(err.headers['retry-after']).toBe('42');
    const poll = await fetch(gw.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: encodeAgentToServer({ instanceUid: newInstanceUid(), sequenceNum: 1, capabilities: 1 }),
    });
    expect(poll.status).toBe(503);
    await a.close();
    const c = await gw.connect();
    await Promise.all([b.close(), c.close()]);
  });

  it('limits the upgrade rate with 503 + Retry-After', async () => {
    gw = await startTestGateway(fx.url, fx.prefix, { MAX_UPGRADES_PER_SECOND: '2' });
    await gw.connect();
    await gw.connect();
    const err = await rejection(gw.connect());
    expect(err.status).toBe(503);
    expect(err.headers['retry-after']).toBe('30');
    expect(await gw.metric('opamp_gateway_rejected_requests_total', { reason: 'upgrade_rate' })).toBe(1);
  });
});

describe('ops port', () => {
  it('serves health, readiness and the gateway metrics', async () => {
    gw = await startTestGateway(fx.url, fx.prefix);
    expect((await fetch(`${gw.opsUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.opsUrl}/readyz`)).status).toBe(200);
    const agent = await gw.connect();
    await agent.send();
    const text = await (await fetch(`${gw.opsUrl}/metrics`)).text();
    expect(text).toMatch(/^opamp_gateway_connections\{[^}]*transport="ws"[^}]*\} 1$/m);
    for (const name of [
      'opamp_gateway_messages_total',
      'opamp_gateway_presence_pending',
      'opamp_gateway_presence_flush_duration_seconds_bucket',
    ]) {
      expect(text).toContain(name);
    }
    await agent.close();
  });
});
