import type { AddressInfo } from 'node:net';
import swagger from '@fastify/swagger';
import type { ApiConfig } from '@opamp-fleet/config';
import type { Db } from '@opamp-fleet/db';
import { createCommandBus, createConnectionRegistry } from '@opamp-fleet/presence';
import { type Logger, type OpsServer, type Registry, startOpsServer, throttle } from '@opamp-fleet/telemetry';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import { bearerAuthHook } from './auth.js';
import { installErrorHandlers } from './errors.js';
import { type ApiMetrics, createApiMetrics } from './metrics.js';
import { createPresenceReader } from './presence-reader.js';
import { agentRoutes } from './routes/agent-routes.js';
import type { RouteContext } from './routes/context.js';
import { fleetRoutes } from './routes/fleet-routes.js';
import { historyRoutes } from './routes/history-routes.js';
import { listRoutes } from './routes/list-routes.js';
import { reconnectRoute } from './routes/reconnect-route.js';
import { SHARED_SCHEMAS } from './schemas.js';

/** Path of the OpenAPI 3.1 document. */
export const OPENAPI_PATH = '/api/v1/openapi.json';

export interface ApiDeps {
  logger: Logger;
  registry: Registry;
  /** Postgres (read only). Not closed by the API. */
  db: Db;
  /** A fail-fast client (`createPresenceRedis`) for reads and command publishing. Not closed by the API. */
  redis: Redis;
}

/**
 * The REST API without its process wiring: routes, auth, validation, OpenAPI, metrics, ops port.
 *
 * Contract: `app` answers `inject()` at once (no port needed). `listen()` binds API_PORT and the ops
 * port (METRICS_PORT); call it once. `close()` reports not ready, stops accepting, waits up to
 * SHUTDOWN_TIMEOUT_MS for in-flight requests and closes the ops port; it is idempotent and never
 * closes the clients in `deps` (the caller does, afterwards). Requests are independent: each reads
 * Postgres and Redis on its own and writes nothing but the reconnect command.
 */
export interface Api {
  readonly app: FastifyInstance;
  readonly metrics: ApiMetrics;
  listen(): Promise<void>;
  /** The bound API port once listening (useful with API_PORT=0). */
  readonly port: number | null;
  readonly opsPort: number | null;
  close(): Promise<void>;
}

const OPENAPI_INFO = {
  title: 'opamp-fleet REST API',
  version: '1.0.0',
  description:
    'Agent status, history and fleet counts of an OpAMP fleet, and reconnect commands. Every /api/v1 route but this document needs `Authorization: Bearer <token>` when API_AUTH_TOKENS is set. Errors: `{ "error": { "code", "message", "details"? } }`.',
};

export function createApi(config: ApiConfig, deps: ApiDeps): Api {
  const log = deps.logger.child({ component: 'api' });
  const metrics = createApiMetrics(deps.registry);
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }),
    // requests are measured by the duration histogram; failures are logged by the error handler
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024,
    ajv: { customOptions: { removeAdditional: false } },
  }) as unknown as FastifyInstance;
  const registry = createConnectionRegistry({ redis: deps.redis, keyPrefix: config.redisKeyPrefix });
  const bus = createCommandBus({ redis: deps.redis, keyPrefix: config.redisKeyPrefix });
  const logFallback = throttle(10_000, (suppressed: number, err: unknown) =>
    log.warn({ err, suppressed }, 'Redis read failed; answering from Postgres alone'),
  );
  const ctx: RouteContext = {
    config,
    db: deps.db,
    registry,
    bus,
    metrics,
    presence: createPresenceReader({
      redis: deps.redis,
      registry,
      db: deps.db,
      keyPrefix: config.redisKeyPrefix,
      onFailure: (err) => {
        metrics.presenceFallbacks.inc();
        logFallback(err);
      },
    }),
  };

  installErrorHandlers(app);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  // callback-style hooks: no promise per request
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('cache-control', 'no-store'); // live status: never serve it from a cache
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.requestDuration.observe(
      {
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
  const auth = config.authTokens.length > 0;
  if (!auth) log.warn('API_AUTH_TOKENS is empty: the REST API accepts unauthenticated requests');
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      tags: [
        { name: 'agents', description: 'Agent status, records and history' },
        { name: 'fleet', description: 'Fleet-wide views' },
      ],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: auth ? [{ bearerAuth: [] }] : [],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  // The document is public: it describes the API's shape, holds no fleet data, and clients and
  // tooling fetch it before they have credentials.
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
  app.register(async (scope) => {
    scope.addHook('onRequest', bearerAuthHook(config.authTokens));
    agentRoutes(scope, ctx);
    historyRoutes(scope, ctx);
    listRoutes(scope, ctx);
    fleetRoutes(scope, ctx);
    reconnectRoute(scope, ctx);
  });

  let ops: OpsServer | null = null;
  let port: number | null = null;
  let listening = false;
  let closing: Promise<void> | null = null;

  return {
    app,
    metrics,
    get port() {
      return port;
    },
    get opsPort() {
      return ops?.port ?? null;
    },
    async listen() {
      ops = await startOpsServer({
        host: config.metricsHost,
        port: config.metricsPort,
        registry: deps.registry,
        isReady: () => listening && closing === null,
      });
      await app.listen({ host: config.apiHost, port: config.apiPort });
      port = (app.server.address() as AddressInfo).port;
      listening = true;
      log.info(
        { port, opsPort: ops.port, auth, offlineTimeoutSeconds: config.offlineTimeoutSeconds },
        'API listening',
      );
    },
    close() {
      closing ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs);
        });
        const result = await Promise.race([app.close().then(() => 'closed' as const), timeout]);
        clearTimeout(timer);
        if (result === 'timeout') log.warn('in-flight requests did not finish within SHUTDOWN_TIMEOUT_MS');
        await Promise.allSettled([ops?.close(), bus.close()]);
        listening = false;
      })();
      return closing;
    },
  };
}
