import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { deleteByPrefix, freePorts, type RunningProcess, startProcesses } from '@opamp-fleet/testkit';
import { Redis } from 'ioredis';
import { type ServerTarget, TargetStartError } from './server-target.js';

const GATEWAY_ENTRY = fileURLToPath(new URL('../../../apps/gateway/dist/main.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 30_000;

/**
 * Gateway settings for a connect benchmark: no auth, and an upgrade-rate limit far above what one
 * host can dial so the bench measures the gateway's capacity rather than its shedding.
 */
const GATEWAY_ENV = {
  OPAMP_AUTH_TOKENS: '',
  MAX_UPGRADES_PER_SECOND: '1000000',
  HEARTBEAT_INTERVAL_SECONDS: '30',
  LOG_LEVEL: 'warn',
} as const;

export interface GatewayOptions {
  processes: number;
  redisUrl: string;
  path: string;
  maxMessageBytes: number;
  idleTimeoutSeconds: number;
}

/**
 * Starts `processes` gateways sharing one OpAMP port, each with its own metrics port, on a fresh
 * Redis key prefix; `stop()` terminates them and deletes every key under that prefix.
 */
export async function startGateways(options: GatewayOptions): Promise<ServerTarget> {
  await access(GATEWAY_ENTRY).catch(() => {
    throw new TargetStartError(`gateway not built: ${GATEWAY_ENTRY} is missing (run pnpm build)`);
  });
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new TargetStartError(`Redis at ${options.redisUrl} is unreachable: ${(error as Error).message}`);
  }
  const keyPrefix = `opamp-bench-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}:`;
  const [opampPort, ...metricsPorts] = await freePorts(options.processes + 1);
  let processes: RunningProcess[] = [];
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await Promise.all(processes.map((p) => p.stop('SIGTERM', STOP_GRACE_MS)));
        await deleteByPrefix(redis, keyPrefix);
      } finally {
        redis.disconnect();
      }
    })();
    return stopping;
  };
  try {
    processes = await startProcesses(
      metricsPorts.map((metricsPort, i) => ({
        name: `gateway ${i + 1}`,
        command: process.execPath,
        args: [GATEWAY_ENTRY],
        env: {
          ...GATEWAY_ENV,
          OPAMP_PORT: String(opampPort),
          METRICS_PORT: String(metricsPort),
          REDIS_URL: options.redisUrl,
          REDIS_KEY_PREFIX: keyPrefix,
          MAX_MESSAGE_BYTES: String(options.maxMessageBytes),
          WS_IDLE_TIMEOUT_SECONDS: String(options.idleTimeoutSeconds),
        },
        readyUrl: `http://127.0.0.1:${metricsPort}/readyz`,
        readyTimeoutMs: START_TIMEOUT_MS,
      })),
    );
  } catch (error) {
    await stop(); // the gateways that started were stopped; this removes their keys
    throw error;
  }
  return {
    kind: 'gateway',
    url: `ws://127.0.0.1:${opampPort}${options.path}`,
    pids: processes.map((p) => p.pid),
    replyCheck: 'opamp',
    token: null,
    settings: {
      processes: options.processes,
      redisKeyPrefix: keyPrefix,
      maxMessageBytes: options.maxMessageBytes,
      idleTimeoutSeconds: options.idleTimeoutSeconds,
      ...GATEWAY_ENV,
    },
    stop,
  };
}

/** A gateway the bench did not start: loaded as is, without server-side RSS or CPU figures. */
export function externalGateway(url: string, token: string | null): ServerTarget {
  return {
    kind: 'gateway',
    url,
    pids: [],
    replyCheck: 'opamp',
    token,
    settings: { processes: 'external' },
    stop: async () => {},
  };
}
