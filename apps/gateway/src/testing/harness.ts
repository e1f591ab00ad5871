/** Test harness: a real gateway in this process on ephemeral ports, against a real Redis. */
import { once } from 'node:events';
import { type GatewayConfig, loadGatewayConfig } from '@opamp-fleet/config';
import { createPresenceRedis } from '@opamp-fleet/presence';
import { type AgentEvent, createQueueRedis } from '@opamp-fleet/queue';
import { createLogger, createMetricsRegistry, type Registry } from '@opamp-fleet/telemetry';
import { TestAgent, type TestAgentOptions } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { createGateway, type Gateway, OPAMP_PATH } from '../gateway.js';
import { readEvents } from './events.js';

export interface TestGateway {
  readonly gateway: Gateway;
  readonly config: GatewayConfig;
  readonly registry: Registry;
  readonly redis: Redis;
  /** The client the gateway's event producer adds jobs with. */
  readonly queueRedis: Redis;
  readonly wsUrl: string;
  readonly httpUrl: string;
  readonly opsUrl: string;
  connect(options?: Partial<TestAgentOptions>): Promise<TestAgent>;
  /** The events in this gateway's queue (of every producer on the key prefix), optionally of one agent. */
  events(agentId?: string): Promise<AgentEvent[]>;
  /** Sum of a metric's samples whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

let started = 0;

export async function startTestGateway(
  redisUrl: string,
  keyPrefix: string,
  env: Record<string, string> = {},
  options: { waitForRedis?: boolean } = {},
): Promise<TestGateway> {
  const config = loadGatewayConfig(
    {
      OPAMP_HOST: '127.0.0.1',
      OPAMP_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: '0',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      LOG_LEVEL: 'silent',
      GATEWAY_ID: `test-gateway-${++started}`,
      ...env,
    },
    { hostname: 'test', pid: process.pid, openFileLimit: 20_000 },
  );
  const redis = createPresenceRedis({ url: redisUrl, commandTimeoutMs: 1000, onError: () => {} });
  const queueRedis = createQueueRedis({ role: 'producer', url: redisUrl, onError: () => {} });
  if (options.waitForRedis !== false) {
    await Promise.all([redis, queueRedis].map((r) => (r.status === 'ready' ? null : once(r, 'ready'))));
  }
  const registry = createMetricsRegistry({ service: 'gateway', defaultMetrics: false });
  const logger = createLogger({ name: 'gateway-test', level: config.logLevel });
  const gateway = createGateway(config, { redis, queueRedis, logger, metricsRegistry: registry });
  await gateway.listen();
  const base = `127.0.0.1:${gateway.opampPort}${OPAMP_PATH}`;
  const agents: TestAgent[] = [];
  return {
    gateway,
    config,
    registry,
    redis,
    queueRedis,
    wsUrl: `ws://${base}`,
    httpUrl: `http://${base}`,
    opsUrl: `http://127.0.0.1:${gateway.metricsPort}`,
    async connect(options = {}) {
      const agent = await TestAgent.connect({ url: `ws://${base}`, ...options });
      agents.push(agent);
      return agent;
    },
    events(agentId) {
      return readEvents(redis, keyPrefix, agentId);
    },
    async metric(name, labels = {}) {
      const m = registry.getSingleMetric(name);
      if (!m) throw new Error(`no metric ${name}`);
      const { values } = await m.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async stop() {
      for (const a of agents) a.terminate();
      await gateway.close();
      redis.disconnect();
      queueRedis.disconnect();
    },
  };
}
