/** Test harness: a real gateway in this process on ephemeral ports, against a real Redis. */
import { once } from 'node:events';
import { type GatewayConfig, loadGatewayConfig } from '@opamp-fleet/config';
import { createPresenceRedis } from '@opamp-fleet/presence';
import { createLogger, createMetricsRegistry, type Registry } from '@opamp-fleet/telemetry';
import { TestAgent, type TestAgentOptions } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { createGateway, type Gateway, OPAMP_PATH } from '../gateway.js';

export interface TestGateway {
  readonly gateway: Gateway;
  readonly config: GatewayConfig;
  readonly registry: Registry;
  readonly redis: Redis;
  readonly wsUrl: string;
  readonly httpUrl: string;
  readonly opsUrl: string;
  connect(options?: Partial<TestAgentOptions>): Promise<TestAgent>;
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
  if (options.waitForRedis !== false && redis.status !== 'ready') await once(redis, 'ready');
  const registry = createMetricsRegistry({ service: 'gateway', defaultMetrics: false });
  const logger = createLogger({ name: 'gateway-test', level: config.logLevel });
  const gateway = createGateway(config, { redis, logger, metricsRegistry: registry });
  await gateway.listen();
  const base = `127.0.0.1:${gateway.opampPort}${OPAMP_PATH}`;
  const agents: TestAgent[] = [];
  return {
    gateway,
    config,
    registry,
    redis,
    wsUrl: `ws://${base}`,
    httpUrl: `http://${base}`,
    opsUrl: `http://127.0.0.1:${gateway.metricsPort}`,
    async connect(options = {}) {
      const agent = await TestAgent.connect({ url: `ws://${base}`, ...options });
      agents.push(agent);
      return agent;
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
    },
  };
}
