/**
 * The simulator against a real gateway (apps/gateway/dist, Redis): both transports, ReportFullState
 * after a sequence gap, reconnect after a gateway restart on the same port, goodbyes, and the
 * forked (sharded) mode. Runs the built simulator (dist), whose child processes run dist too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER_LIMITS } from '../scenarios/connect.js';
import { startGateways } from '../targets/gateway-target.js';
import { openRedisNamespace, type RedisNamespace } from '../targets/redis-namespace.js';
import type { ServerTarget } from '../targets/server-target.js';
import type * as SimulatorModule from './simulator.js';

const { Simulator } = (await import(
  new URL('../../dist/sim/simulator.js', import.meta.url).href
)) as typeof SimulatorModule;
type Simulator = SimulatorModule.Simulator;

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const stops: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
});

async function gateway(ns: RedisNamespace, opampPort?: number): Promise<ServerTarget> {
  const target = await startGateways({
    processes: 1,
    redisUrl: REDIS_URL,
    path: '/v1/opamp',
    maxMessageBytes: SERVER_LIMITS.maxMessageBytes,
    idleTimeoutSeconds: SERVER_LIMITS.idleTimeoutSeconds,
    heartbeatIntervalSeconds: 1,
    keyPrefix: ns.keyPrefix,
    opampPort,
  });
  stops.push(() => target.stop());
  return target;
}

async function simulator(url: string, over: Partial<SimulatorModule.SimulatorOptions>): Promise<Simulator> {
  const sim = await Simulator.create({
    url,
    token: null,
    agents: 20,
    transport: 'mix',
    httpShare: 0.5,
    heartbeatMs: 1000,
    jitter: 0.1,
    backoff: { baseMs: 100, capMs: 1000 },
    agentsPerAddress: 8,
    agentsPerProcess: 19_000,
    processes: null,
    dialConcurrency: 10,
    echo: false,
    sampleCapacity: 10_000,
    ...over,
  });
  stops.push(() => sim.close());
  return sim;
}

describe('Simulator against a real gateway', () => {
  it('runs WS and HTTP agents, honours ReportFullState, reconnects after a gateway restart, says goodbye', async () => {
    const ns = await openRedisNamespace(REDIS_URL);
    stops.push(() => ns.close());
    const first = await gateway(ns);
    const sim = await simulator(first.url, {});
    await sim.start();
    expect(await sim.waitFor((c) => c.connected === 20, 20_000)).toBe(true);
    expect(sim.counters()).toMatchObject({ agents: 20, connectedHttp: 10, connects: 20, connectsWs: 10 });
    const answered = sim.counters().answered;
    expect(await sim.waitFor((c) => c.answered >= answered + 20, 10_000)).toBe(true);

    // a lost message leaves a sequence gap: the gateway asks for the full state, which follows
    expect(await sim.gap(6)).toBe(6);
    expect(await sim.waitFor((c) => c.fullStateRequested >= 6 && c.fullStateSent >= 6, 10_000)).toBe(true);
    const afterGap = sim.counters();
    expect(afterGap.fullStateSent).toBe(afterGap.fullStateRequested);

    // the gateway drains on SIGTERM (1001); a new one takes the same port; every agent comes back
    const port = Number(new URL(first.url).port);
    await first.stop();
    await gateway(ns, port);
    expect(await sim.waitFor((c) => c.connected === 20 && c.reconnects >= 10, 30_000)).toBe(true);
    const restarted = sim.counters();
    expect(restarted.dropKinds['1001 server shutting down']).toBe(10);
    expect(restarted.connectsWs).toBeGreaterThanOrEqual(20);
    expect(restarted.errors).toBe(0);
    const { latencyMs, reconnectMs } = await sim.samples();
    expect(latencyMs.ws.length + latencyMs.http.length).toBe(restarted.answered);
    expect(latencyMs.ws.length).toBeGreaterThan(0);
    expect(latencyMs.http.length).toBeGreaterThan(0);
    expect(reconnectMs).toHaveLength(restarted.reconnects);
    expect((await sim.ids()).length).toBe(20);

    await sim.close(true);
    expect(sim.counters()).toMatchObject({ goodbyes: 20, agents: 0, connected: 0 });
  }, 60_000);

  it('shards agents over forked processes that report their own CPU and RSS', async () => {
    const ns = await openRedisNamespace(REDIS_URL);
    stops.push(() => ns.close());
    const target = await gateway(ns);
    const sim = await simulator(target.url, { transport: 'ws', agents: 10, processes: 2 });
    expect(sim.processCount).toBe(2);
    await sim.start();
    expect(await sim.waitFor((c) => c.connected === 10 && c.answered >= 20, 20_000)).toBe(true);
    const usage = sim.usage();
    expect(usage.map((u) => u.pid)).not.toContain(process.pid);
    expect(new Set(usage.map((u) => u.pid)).size).toBe(2);
    expect(usage.every((u) => u.rssBytes > 0 && u.cpuSeconds > 0)).toBe(true);
    const left = await sim.leave(4);
    expect(left.map((l) => l.mode).sort()).toEqual(['graceful', 'graceful', 'silent', 'silent']);
    expect(await sim.join(4)).toBe(4);
    expect(await sim.waitFor((c) => c.connected === 10 && c.agents === 10 && c.joins === 4, 20_000)).toBe(
      true,
    );
  }, 60_000);
});
