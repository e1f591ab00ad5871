/**
 * End-to-end: the built gateway (`node apps/gateway/dist/main.js`) as a real process on free ports,
 * driven by the simulated WebSocket agent and by @elastic/opamp-client-node over plain HTTP.
 * Build first (`pnpm build`); `pnpm test:e2e` does.
 */
import dc from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createOpAMPClient } from '@elastic/opamp-client-node';
import {
  encodeAgentToServer,
  newInstanceUid,
  ServerErrorResponseType,
  ServerToAgentFlags,
  uidBytesToId,
  uint64ToBitmask,
} from '@opamp-fleet/opamp';
import { createConnectionRegistry, readLastSeen } from '@opamp-fleet/presence';
import {
  eventually,
  freePort,
  type RedisFixture,
  type RunningProcess,
  redisFixture,
  startProcess,
  TestAgent,
  type TestAgentOptions,
  UpgradeRejectedError,
} from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from './testing/events.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TOKEN = 'e2e-token';

interface Running {
  proc: RunningProcess;
  wsUrl: string;
  httpUrl: string;
  prefix: string;
}

async function startGateway(prefix: string, env: Record<string, string> = {}): Promise<Running> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const proc = await startProcess({
    name: 'gateway',
    command: process.execPath,
    args: [MAIN],
    env: {
      OPAMP_HOST: '127.0.0.1',
      OPAMP_PORT: String(port),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      REDIS_URL: fx.url,
      REDIS_KEY_PREFIX: prefix,
      OPAMP_AUTH_TOKENS: TOKEN,
      LOG_LEVEL: 'warn',
      ...env,
    },
    readyUrl: `http://127.0.0.1:${metricsPort}/readyz`,
  });
  return {
    proc,
    prefix,
    wsUrl: `ws://127.0.0.1:${port}/v1/opamp`,
    httpUrl: `http://127.0.0.1:${port}/v1/opamp`,
  };
}

let fx: RedisFixture;
let redis: Redis;
let gw: Running;
const agents: TestAgent[] = [];

function connect(options: Partial<TestAgentOptions> = {}): Promise<TestAgent> {
  return TestAgent.connect({ url: gw.wsUrl, token: TOKEN, ...options }).then((a) => {
    agents.push(a);
    return a;
  });
}

const flags = (r: { flags: unknown }) => uint64ToBitmask(r.flags as number);

beforeAll(async () => {
  expect(existsSync(MAIN), `${MAIN} is missing: run pnpm build first`).toBe(true);
  fx = await redisFixture();
  redis = fx.client();
  gw = await startGateway(fx.prefix, { FIRST_MESSAGE_TIMEOUT_MS: '500', MAX_MESSAGE_BYTES: '65536' });
});

afterAll(async () => {
  for (const a of agents) a.terminate();
  await gw?.proc.stop('SIGKILL');
  await fx?.stop();
});

describe('gateway process', () => {
  it('refuses agents without a valid token with 401 and writes nothing to Redis', async () => {
    const before = (await redis.keys(`${fx.prefix}*`)).sort();
    const err = await TestAgent.connect({ url: gw.wsUrl }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpgradeRejectedError);
    expect((err as UpgradeRejectedError).status).toBe(401);
    const poll = await fetch(gw.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: encodeAgentToServer({ instanceUid: newInstanceUid(), sequenceNum: 1, capabilities: 1 }),
    });
    expect(poll.status).toBe(401);
    expect((await redis.keys(`${fx.prefix}*`)).sort()).toEqual(before);
  });

  it('answers the WebSocket agent and has it in the last-seen set within a second', async () => {
    const agent = await connect();
    const reply = await agent.send();
    const answeredAt = Date.now();
    expect(Buffer.from(reply.instanceUid).equals(Buffer.from(agent.uid))).toBe(true);
    expect(reply.errorResponse).toBeNull();
    await eventually(
      async () => expect((await readLastSeen(redis, [agent.id], fx.prefix)).get(agent.id)).not.toBeNull(),
      { timeoutMs: 1000 },
    );
    expect(Date.now() - answeredAt).toBeLessThan(1000);
  });

  it('answers @elastic/opamp-client-node over plain HTTP', async () => {
    const seen: number[] = [];
    const failures: unknown[] = [];
    const ok = (m: unknown) => seen.push(Number((m as { a2s: { sequenceNum: bigint } }).a2s.sequenceNum));
    const fail = (m: unknown) => failures.push((m as { err: unknown }).err);
    dc.subscribe('opamp-client.send.success', ok);
    dc.subscribe('opamp-client.send.fail', fail);
    const client = createOpAMPClient({
      endpoint: gw.httpUrl,
      headers: { authorization: `Bearer ${TOKEN}` },
      heartbeatIntervalSeconds: 0.2,
      diagEnabled: true,
    });
    client.setAgentDescription({ identifyingAttributes: { 'service.name': 'e2e' } });
    client.start();
    try {
      await eventually(() => expect(seen.length).toBeGreaterThanOrEqual(2), { timeoutMs: 10_000 });
      expect(failures).toEqual([]);
      const id = uidBytesToId(client.getInstanceUid() as Uint8Array);
      await eventually(async () =>
        expect((await readLastSeen(redis, [id], fx.prefix)).get(id)).not.toBeNull(),
      );
    } finally {
      await client.shutdown();
      dc.unsubscribe('opamp-client.send.success', ok);
      dc.unsubscribe('opamp-client.send.fail', fail);
    }
  });

  it('asks for the full state after a sequence gap', async () => {
    const agent = await connect();
    await agent.send();
    agent.skipSequence(2);
    expect(flags(await agent.heartbeat()) & ServerToAgentFlags.ReportFullState).toBe(1);
  });

  it('assigns a new instance_uid on RequestInstanceUid', async () => {
    const agent = await connect();
    const before = agent.uid;
    const reply = await agent.requestInstanceUid();
    expect(reply.agentIdentification?.newInstanceUid).toHaveLength(16);
    expect(Buffer.from(agent.uid).equals(Buffer.from(before))).toBe(false);
    expect((await agent.heartbeat()).errorResponse).toBeNull();
  });

  it('survives oversized, malformed, text and empty frames and keeps serving others', async () => {
    const healthy = await connect();
    await healthy.send();
    const big = await connect();
    big.sendRaw(new Uint8Array(70_000));
    expect([1006, 1009]).toContain((await big.waitForClose()).code);
    const bad = await connect();
    bad.sendRaw(Uint8Array.from([0x00, 0x0a, 0xff]));
    bad.sendRaw('text');
    bad.sendRaw(new Uint8Array(0));
    for (let i = 0; i < 3; i++)
      expect((await bad.nextReply()).errorResponse?.type).toBe(ServerErrorResponseType.BadRequest);
    expect((await healthy.heartbeat()).errorResponse).toBeNull();
    const fresh = await connect();
    expect((await fresh.send()).errorResponse).toBeNull();
  });

  it('replaces the older of two live connections with the same instance_uid', async () => {
    const uid = newInstanceUid();
    const first = await connect({ instanceUid: uid });
    await first.send();
    const second = await connect({ instanceUid: uid });
    await second.send();
    expect(await first.waitForClose()).toEqual({ code: 4000, reason: 'replaced' });
    expect(second.isOpen).toBe(true);
  });

  it('closes sockets that never send a message', async () => {
    const idle = await connect();
    expect((await idle.waitForClose(3000)).code).toBe(1008);
  });
});

describe('gateway process limits and shutdown', () => {
  it('answers 503 + Retry-After over the connection cap, and drains on SIGTERM (events handed over) and exits 0', async () => {
    const small = await startGateway(`${fx.prefix}small:`, { MAX_CONNECTIONS: '2', DRAIN_BATCH_SIZE: '1' });
    const held: TestAgent[] = [];
    for (let i = 0; i < 2; i++) {
      const a = await TestAgent.connect({ url: small.wsUrl, token: TOKEN });
      await a.send();
      held.push(a);
    }
    const err = await TestAgent.connect({ url: small.wsUrl, token: TOKEN }).catch((e: unknown) => e);
    expect((err as UpgradeRejectedError).status).toBe(503);
    expect((err as UpgradeRejectedError).headers['retry-after']).toBe('30');

    const closes = held.map((a) => a.waitForClose(10_000));
    expect(await small.proc.stop('SIGTERM', 15_000)).toBe(0);
    for (const c of await Promise.all(closes)) expect(c.code).toBe(1001);
    const registry = createConnectionRegistry({ redis, keyPrefix: small.prefix });
    for (const a of held) expect(await registry.lookup(a.id)).toBeNull();
    // The connection events reached the queue before the process exited.
    for (const a of held) {
      const events = await readEvents(redis, small.prefix, a.id);
      expect(events.map((e) => e.type)).toEqual(['connection_opened', 'agent_state', 'connection_closed']);
      expect(events[2]).toMatchObject({ reason: 'gateway_shutdown' });
    }
  });
});

describe('gateway process start-up refusals', () => {
  async function run(env: Record<string, string>) {
    const proc = await startProcess({
      name: 'gateway',
      command: process.execPath,
      args: [MAIN],
      env: {
        REDIS_URL: fx.url,
        REDIS_KEY_PREFIX: `${fx.prefix}refusal:`,
        OPAMP_PORT: '0',
        METRICS_PORT: '0',
        ...env,
      },
    });
    return { code: await proc.exited, output: proc.output() };
  }

  it('exits 2 naming the variable on invalid configuration', async () => {
    const { code, output } = await run({ OPAMP_PORT: 'not-a-port' });
    expect(code).toBe(2);
    expect(output).toContain('OPAMP_PORT');
  });

  it("refuses uWebSockets.js's pure-JS fallback unless allowed", async () => {
    const { code, output } = await run({ UWS_USE_FALLBACK: 'true' });
    expect(code).toBe(3);
    expect(output).toContain('ALLOW_UWS_JS_FALLBACK');
  });
});
