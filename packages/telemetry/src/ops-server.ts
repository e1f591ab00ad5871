import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface OpsServerOptions {
  readonly host: string;
  /** 0 picks a free port; read the chosen one from `OpsServer.port`. */
  readonly port: number;
  readonly registry: Registry;
  /** /readyz answers 200 while this returns true, else 503. */
  readonly isReady: () => boolean;
  /** /healthz answers 200 while this returns true, else 503. Default: always healthy. */
  readonly isHealthy?: () => boolean;
}

/** The ops endpoint of a process: GET /metrics, /healthz and /readyz, on a port apart from traffic. */
export interface OpsServer {
  readonly port: number;
  /** Stops listening and closes idle keep-alive sockets. Idempotent. */
  close(): Promise<void>;
}

/** Starts the ops HTTP server; resolves once it listens. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, 'method not allowed\n');
    if (path === '/healthz') {
      const ok = options.isHealthy?.() ?? true;
      return answer(ok ? 200 : 503, ok ? 'ok\n' : 'unhealthy\n');
    }
    if (path === '/readyz') {
      const ok = options.isReady();
      return answer(ok ? 200 : 503, ok ? 'ready\n' : 'not ready\n');
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => answer(200, text, options.registry.contentType),
        (err: unknown) => answer(500, `metrics collection failed: ${String(err)}\n`),
      );
      return;
    }
    answer(404, 'not found\n');
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
