import http from 'node:http';
import { type Summary, summarize } from '../metrics/stats.js';

/** Latency summary (ms) and throughput of one endpoint under load. */
export interface EndpointResult {
  requests: number;
  errors: number;
  requestsPerSecond: number;
  latencyMs: Summary;
}

/** A unit of work of one lane; it calls `time` around each request it makes. */
export type LaneStep = (time: <T>(request: () => Promise<T>) => Promise<T>) => Promise<void>;

/**
 * Runs `concurrency` lanes, each repeating `step` until `durationMs` passed, and summarizes every
 * timed request. A failed request counts as an error and its lane continues.
 */
export async function driveLoad(
  concurrency: number,
  durationMs: number,
  step: LaneStep,
): Promise<EndpointResult> {
  const samples: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + durationMs;
  const time = async <T>(request: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      const value = await request();
      samples.push(performance.now() - t0);
      return value;
    } catch (error) {
      errors++;
      throw error;
    }
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await step(time).catch(() => undefined);
    }),
  );
  const elapsedSeconds = (performance.now() - start) / 1000;
  return {
    requests: samples.length,
    errors,
    requestsPerSecond: samples.length / elapsedSeconds,
    latencyMs: summarize(samples),
  };
}

export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
}

/** A keep-alive JSON GET client of one base URL with a bearer token. */
export function jsonClient(baseUrl: string, token: string, sockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const base = new URL(baseUrl);
  return {
    get<T>(path: string): Promise<T> {
      return new Promise((resolve, reject) => {
        const req = http.get(
          {
            agent,
            host: base.hostname,
            port: base.port,
            path,
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              if (res.statusCode !== 200) {
                reject(new HttpStatusError(`GET ${path}: HTTP ${res.statusCode}`));
                return;
              }
              try {
                resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
              } catch (error) {
                reject(error);
              }
            });
          },
        );
        req.on('error', reject);
      });
    },
    close(): void {
      agent.destroy();
    },
  };
}
