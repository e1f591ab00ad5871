import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freePorts, type RunningProcess, startProcesses } from '@opamp-fleet/testkit';
import { openRedisNamespace } from './redis-namespace.js';
import { serverNodeArgs } from './server-node-args.js';
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
  LOG_LEVEL: 'warn',
} as const;

export interface GatewayOptions {
  processes: number;
  redisUrl: string;
  path: string;
  maxMessageBytes: number;
  idleTimeoutSeconds: number;
  /** Default 30. */
  heartbeatIntervalSeconds?: number;
  /**
   * `unlimited` (default): MAX_UPGRADES_PER_SECOND far above what one host can dial.
   * `product-defaults`: the gateway's own admission defaults (upgrade rate, connection cap, Retry-After).
   */
  admission?: 'unlimited' | 'product-defaults';
  /**
   * A key prefix shared with other processes of the run, whose keys the caller deletes; default a
   * fresh prefix of the gateways' own, deleted by `stop()`.
   */
  keyPrefix?: string;
  /** The shared OpAMP port; default a free one (a restarted gateway takes over its predecessor's). */
  opampPort?: number;
}

/**
 * Starts `processes` gateways sharing one OpAMP port, each with its own metrics port (listed in
 * `settings.metricsPorts`); `stop()` terminates them and deletes the keys of a prefix they own.
 */
export async function startGateways(options: GatewayOptions): Promise<ServerTarget> {
  await access(GATEWAY_ENTRY).catch(() => {
    throw new TargetStartError(`gateway not built: ${GATEWAY_ENTRY} is missing (run pnpm build)`);
  });
  const owned = options.keyPrefix === undefined ? await openRedisNamespace(options.redisUrl) : null;
  const keyPrefix = options.keyPrefix ?? owned!.keyPrefix;
  const [opampPort, ...metricsPorts] =
    options.opampPort === undefined
      ? await freePorts(options.processes + 1)
      : [options.opampPort, ...(await freePorts(options.processes))];
  const { MAX_UPGRADES_PER_SECOND, ...productAdmission } = GATEWAY_ENV;
  const env = {
    ...(options.admission === 'product-defaults'
      ? productAdmission
      : { ...productAdmission, MAX_UPGRADES_PER_SECOND }),
    HEARTBEAT_INTERVAL_SECONDS: String(options.heartbeatIntervalSeconds ?? 30),
  };
  let processes: RunningProcess[] = [];
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await Promise.all(processes.map((p) => p.stop('SIGTERM', STOP_GRACE_MS)));
      } finally {
        await owned?.close();
      }
    })();
    return stopping;
  };
  try {
    processes = await startProcesses(
      metricsPorts.map((metricsPort, i) => ({
        name: `gateway ${i + 1}`,
        command: process.execPath,
        args: [...serverNodeArgs(), GATEWAY_ENTRY],
        env: {
          ...env,
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
    await stop(); // the gateways that started were stopped; this removes the keys of an owned prefix
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
      metricsPorts: metricsPorts.join(','),
      ...env,
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
