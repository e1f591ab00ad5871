import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '@opamp-fleet/config';
import { resolveCodecLimits } from '@opamp-fleet/opamp';
import {
  createCommandBus,
  createConnectionRegistry,
  createPresenceWriter,
  createRedisEpoch,
  createSessionStore,
  type FailedSessionCheck,
} from '@opamp-fleet/presence';
import { type Logger, type OpsServer, type Registry, startOpsServer, throttle } from '@opamp-fleet/telemetry';
import type { Redis } from 'ioredis';
import { Admission, BearerAuth, TokenBucket } from './admission.js';
import { AgentEvents, createGatewayEventProducer } from './agent-events.js';
import { HttpTransport } from './http-transport.js';
import { PeriodicTask } from './loop.js';
import { createGatewayMetrics } from './metrics.js';
import { Ownership } from './ownership.js';
import { SessionCore } from './session-core.js';
import { assertUwsNative, createUwsServer } from './uws-server.js';
import { WsTransport } from './ws-transport.js';

export const OPAMP_PATH = '/v1/opamp';

/** Send buffer per WebSocket; a socket that does not read its replies is closed past it. */
const MAX_BACKPRESSURE_BYTES = 1024 * 1024;
/** How long a drain waits for in-flight HTTP requests. */
const HTTP_DRAIN_TIMEOUT_MS = 5000;
/** How long `listen` waits for the command channel subscription before serving without it. */
const SUBSCRIBE_TIMEOUT_MS = 2000;
/** Pause between two attempts to subscribe to the command channel. */
const SUBSCRIBE_RETRY_MS = 1000;

export interface GatewayDeps {
  /** Fail-fast ioredis client (see createPresenceRedis); the gateway never closes it. */
  readonly redis: Redis;
  /**
   * Client the event producer adds its BullMQ jobs with (see createQueueRedis, role 'producer');
   * the gateway never closes it.
   */
  readonly queueRedis: Redis;
  readonly logger: Logger;
  /** Registry the gateway defines its metrics on. */
  readonly metricsRegistry: Registry;
}

/**
 * One gateway process's serving side. Lifecycle: `listen()` once, then `drain()` and/or `close()`
 * (both idempotent; `close` drains first). Ready (/readyz 200) from the end of `listen` until
 * `drain` starts.
 */
export interface Gateway {
  listen(): Promise<void>;
  /** Bound OpAMP port (after listen). */
  readonly opampPort: number;
  /** Bound ops port (after listen). */
  readonly metricsPort: number;
  readonly ready: boolean;
  /** WebSockets currently open. */
  readonly openConnections: number;
  /** Re-announces every held connection now (the periodic task does the same). */
  reannounce(): Promise<void>;
  /**
   * Not ready, stops accepting, closes WebSockets in paced batches with a Close frame (each one's
   * connection_closed event emitted as gateway_shutdown), waits for in-flight HTTP requests,
   * releases registry entries, flushes presence a last time and hands every buffered event to the
   * queue (for up to 10 s while Redis is down; what is left then is dropped and counted).
   */
  drain(): Promise<void>;
  /** Drains, then closes the listen sockets, every remaining socket and the ops port. */
  close(): Promise<void>;
}

export function createGateway(config: GatewayConfig, deps: GatewayDeps): Gateway {
  assertUwsNative(config.allowUwsJsFallback);
  const log = deps.logger;
  const { redis } = deps;
  const keyPrefix = config.redisKeyPrefix;
  // Connection ids name connections in the registry and in connection history: 64 random bits per
  // process keep them unique across every gateway process a deployment ever runs.
  const connPrefix = randomBytes(8).toString('hex');
  let connCounter = 0;
  const nextConnectionId = () => `${connPrefix}-${(++connCounter).toString(36)}`;

  const warnRedis = throttle(10_000, (suppressed: number, err: unknown, what: string) =>
    log.warn({ err, suppressed }, `redis unavailable: ${what}`),
  );
  let metrics: ReturnType<typeof createGatewayMetrics> | undefined;
  // Set once the session core exists; checks arrive only from flushes, which start at listen().
  let sessionChecks: ((failed: readonly FailedSessionCheck[]) => Promise<void>) | undefined;
  const presence = createPresenceWriter({
    redis,
    keyPrefix,
    flushIntervalMs: config.presenceFlushIntervalMs,
    maxPending: config.presenceMaxPending,
    observer: {
      onFlush: (_agents, seconds) => metrics?.presenceFlushSeconds.observe(seconds),
      onError: (err) => {
        metrics?.redisErrors.inc({ operation: 'presence_flush' });
        warnRedis(err, 'last-seen writes are buffered');
      },
      onDropped: (count) => metrics?.presenceDropped.inc(count),
      onSessionChecks: (failed) => {
        sessionChecks?.(failed).catch((err: unknown) => log.error({ err }, 'http session checks failed'));
      },
    },
  });
  const producer = createGatewayEventProducer({
    config,
    connection: deps.queueRedis,
    metrics: () => metrics,
    warn: (err, what) => warnRedis(err, what),
  });
  metrics = createGatewayMetrics(deps.metricsRegistry, {
    presencePending: () => presence.pending,
    eventsBuffered: () => producer.buffered,
  });
  const m = metrics;
  const events = new AgentEvents({ gatewayId: config.gatewayId, sink: producer, metrics: m, now: Date.now });
  const registry = createConnectionRegistry({ redis, keyPrefix });
  const sessions = createSessionStore({ redis, keyPrefix });
  const epoch = createRedisEpoch({ redis, keyPrefix });
  const bus = createCommandBus({
    redis,
    keyPrefix,
    observer: {
      onInvalid: (err) => log.warn({ err }, 'invalid gateway command ignored'),
      onError: (err) => warnRedis(err, 'command channel'),
    },
  });

  const ownership = new Ownership({
    gatewayId: config.gatewayId,
    registry,
    bus,
    presence,
    takeoverWindowMs: config.duplicateTakeoverWindowSeconds * 1000,
    events,
    metrics: m,
    logger: log.child({ component: 'ownership' }),
  });
  const core = new SessionCore({
    limits: resolveCodecLimits({
      maxMessageBytes: config.maxMessageBytes,
      maxAnyValueDepth: config.maxAnyValueDepth,
    }),
    heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
    malformedBudget: config.malformedMessageBudget,
    presence,
    sessions,
    binder: ownership,
    events,
    metrics: m,
    logger: log.child({ component: 'session' }),
  });
  sessionChecks = (failed) => core.sessionChecks(failed);
  const auth = new BearerAuth(config.authTokens);
  if (!auth.enabled) log.warn('OPAMP_AUTH_TOKENS is empty: agents are not authenticated');
  const admission = new Admission({
    auth,
    maxConnections: config.maxConnections,
    upgradeBucket: new TokenBucket(config.maxUpgradesPerSecond, performance),
    retryAfterSeconds: config.overloadRetryAfterSeconds,
    openSockets: () => ownership.size,
    onReject: (transport, reason) => m.rejected.inc({ transport, reason }),
  });
  const ws = new WsTransport({
    core,
    ownership,
    firstMessageTimeoutMs: config.firstMessageTimeoutMs,
    metrics: m,
    logger: log.child({ component: 'ws' }),
    nextConnectionId,
  });
  const http = new HttpTransport({
    core,
    admission,
    maxMessageBytes: config.maxMessageBytes,
    metrics: m,
    logger: log.child({ component: 'http' }),
    nextConnectionId,
  });
  const server = createUwsServer(
    {
      path: OPAMP_PATH,
      maxPayloadBytes: config.maxMessageBytes,
      idleTimeoutSeconds: config.wsIdleTimeoutSeconds,
      maxBackpressureBytes: MAX_BACKPRESSURE_BYTES,
    },
    {
      upgrade: (head) => admission.admitUpgrade(head.header('authorization')),
      open: (socket) => ws.open(socket),
      message: (conn, data, isBinary) => ws.message(conn, data, isBinary),
      close: (conn, code, cause) => ws.close(conn, code, cause),
      httpBegin: (head) => http.begin(head),
      httpBody: (head, body, reply) => http.body(head, body, reply),
      httpTooLarge: () => http.tooLarge(),
      httpAborted: () => http.aborted(),
    },
  );

  const reannounce = async (trigger: 'interval' | 'redis_epoch') => {
    m.reannounces.inc({ trigger });
    await ownership.reannounce();
  };
  const reannounceTask = new PeriodicTask(
    config.reannounceIntervalSeconds * 1000,
    () => reannounce('interval'),
    (err) => {
      m.redisErrors.inc({ operation: 'reannounce' });
      warnRedis(err, 're-announce failed');
    },
  );
  // Agents without ReportsHeartbeat are kept alive by their open socket (dead peers are found by the
  // idle timeout's pings); the others only by their messages.
  const keepaliveTask = new PeriodicTask(
    config.socketKeepaliveTouchSeconds * 1000,
    async () => {
      ownership.keepalive();
    },
    (err) => warnRedis(err, 'keepalive touch failed'),
  );
  const epochTask = new PeriodicTask(
    config.redisEpochCheckIntervalMs,
    async () => {
      const check = await epoch.check();
      if (!check.changed && !check.runIdChanged) return;
      log.warn({ dataLost: check.changed }, 'redis restarted or lost data: re-announcing every connection');
      for (const conn of ownership.connections()) conn.syncedSeq = null;
      core.forgetHttpSessions();
      await reannounce('redis_epoch');
    },
    (err) => {
      m.redisErrors.inc({ operation: 'epoch_check' });
      warnRedis(err, 'epoch check failed');
    },
  );

  let ops: OpsServer | null = null;
  let opampPort = 0;
  let ready = false;
  let unsubscribe: (() => Promise<void>) | null = null;
  let draining: Promise<void> | null = null;
  let closing: Promise<void> | null = null;

  /**
   * Subscribes to this gateway's command channel, retrying every SUBSCRIBE_RETRY_MS while Redis is
   * unreachable; resolves after the first success or SUBSCRIBE_TIMEOUT_MS, whichever comes first.
   */
  function subscribe(): Promise<void> {
    let done!: () => void;
    const first = new Promise<void>((resolve) => {
      done = resolve;
    });
    const attempt = (): void => {
      bus
        .subscribe(config.gatewayId, (cmd) => ownership.handleCommand(cmd))
        .then(
          (unsub) => {
            unsubscribe = unsub;
            done();
          },
          (err: unknown) => {
            warnRedis(err, 'command channel subscription failed; retrying');
            if (draining === null) setTimeout(attempt, SUBSCRIBE_RETRY_MS).unref();
          },
        );
    };
    attempt();
    setTimeout(done, SUBSCRIBE_TIMEOUT_MS).unref();
    return first;
  }

  async function drain(): Promise<void> {
    ready = false;
    admission.startDraining();
    server.stopListening();
    log.info({ connections: ownership.size }, 'draining');
    while (ws.closeSome(config.drainBatchSize, 'draining') > 0 && ownership.size > 0) {
      await sleep(config.drainIntervalMs);
    }
    const deadline = performance.now() + HTTP_DRAIN_TIMEOUT_MS;
    while (admission.inFlightRequests > 0 && performance.now() < deadline) await sleep(10);
    await Promise.all([reannounceTask.stop(), epochTask.stop(), keepaliveTask.stop()]);
    await ownership.settled();
    // The last flush may open sessions (connection_opened): it goes before the producer closes.
    const last = await presence.stop();
    await core.settled();
    const eventsLost = await producer.close();
    await unsubscribe?.().catch(() => undefined);
    await bus.close();
    if (eventsLost > 0) log.warn({ eventsLost }, 'agent events dropped at shutdown (queue unreachable)');
    log.info({ lastFlush: last }, 'drained');
  }

  return {
    async listen() {
      await subscribe();
      await epoch.check().catch((err: unknown) => warnRedis(err, 'epoch check failed'));
      presence.start();
      reannounceTask.start();
      keepaliveTask.start();
      epochTask.start();
      opampPort = await server.listen(config.opampHost, config.opampPort);
      ops = await startOpsServer({
        host: config.metricsHost,
        port: config.metricsPort,
        registry: deps.metricsRegistry,
        isReady: () => ready,
      });
      ready = true;
      log.info({ opampPort, metricsPort: ops.port, gatewayId: config.gatewayId }, 'gateway listening');
    },
    get opampPort() {
      return opampPort;
    },
    get metricsPort() {
      return ops?.port ?? 0;
    },
    get ready() {
      return ready;
    },
    get openConnections() {
      return ownership.size;
    },
    reannounce: () => reannounce('interval'),
    drain() {
      draining ??= drain();
      return draining;
    },
    close() {
      closing ??= (async () => {
        await this.drain();
        server.closeAll();
        await ops?.close();
      })();
      return closing;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
