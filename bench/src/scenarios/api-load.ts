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

/** Timed requests of one run: their latencies and failures. */
class Recorder {
  readonly samples: number[] = [];
  errors = 0;
  readonly start = performance.now();

  /** Runs `request`, recording its latency from `t0` or counting its failure (and rethrowing). */
  async record<T>(t0: number, request: () => Promise<T>): Promise<T> {
    try {
      const value = await request();
      this.samples.push(performance.now() - t0);
      return value;
    } catch (error) {
      this.errors++;
      throw error;
    }
  }

  result(): EndpointResult {
    const elapsedSeconds = (performance.now() - this.start) / 1000;
    return {
      requests: this.samples.length,
      errors: this.errors,
      requestsPerSecond: this.samples.length / elapsedSeconds,
      latencyMs: summarize(this.samples),
    };
  }
}

/**
 * Runs `concurrency` lanes, each repeating `step` until `durationMs` passed, and summarizes every
 * timed request. A failed request counts as an error and its lane continues.
 */
export async function driveLoad(
  concurrency: number,
  durationMs: number,
  step: LaneStep,
): Promise<EndpointResult> {
  const rec = new Recorder();
  const end = rec.start + durationMs;
  const time = <T>(request: () => Promise<T>): Promise<T> => rec.record(performance.now(), request);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await step(time).catch(() => undefined);
    }),
  );
  return rec.result();
}

/** An open-loop run: {@link EndpointResult} plus the arrivals that could not start. */
export interface OpenLoopResult extends EndpointResult {
  /** Offered arrivals per second. */
  offeredPerSecond: number;
  /** Arrivals due while `maxInFlight` steps were already running: not sent, the rate was not held. */
  dropped: number;
  /** Most steps running at once. */
  peakInFlight: number;
  /**
   * How late the generator sent each arrival's first request after its scheduled time (timer
   * lateness, or a generator short of CPU): not server latency, reported so that a lagging
   * generator is seen.
   */
  sendLagMs: Summary;
}

/**
 * Open-loop load: starts `step` at a fixed rate of `ratePerSecond` arrivals, each independent of
 * the others' completion (as many clients as needed run at once), for `durationMs`. No arrival
 * waits for an answer, so a slow server cannot hold the load back (no coordinated omission):
 * requests are timed from when they are sent, and how late each arrival was sent after its
 * scheduled time is reported apart (`sendLagMs`). An arrival due while `maxInFlight` steps are
 * running is not sent and counts as dropped.
 */
export async function driveOpenLoop(
  ratePerSecond: number,
  durationMs: number,
  step: LaneStep,
  maxInFlight = 256,
): Promise<OpenLoopResult> {
  if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${ratePerSecond}`);
  const rec = new Recorder();
  const sendLags: number[] = [];
  let dropped = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  const running = new Set<Promise<void>>();
  const interval = 1000 / ratePerSecond;
  const arrivals = Math.max(1, Math.floor((durationMs / 1000) * ratePerSecond));
  const launch = (scheduled: number) => {
    let first = true;
    const time = <T>(request: () => Promise<T>): Promise<T> => {
      const now = performance.now();
      if (first) sendLags.push(Math.max(0, now - scheduled));
      first = false;
      return rec.record(now, request);
    };
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const p: Promise<void> = step(time)
      .catch(() => undefined)
      .finally(() => {
        inFlight--;
        running.delete(p);
      });
    running.add(p);
  };
  for (let i = 0; i < arrivals; i++) {
    const scheduled = rec.start + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    // every arrival due by now is launched (or dropped) in this turn
    if (inFlight >= maxInFlight) dropped++;
    else launch(scheduled);
  }
  await Promise.all(running);
  return {
    ...rec.result(),
    offeredPerSecond: ratePerSecond,
    dropped,
    peakInFlight,
    sendLagMs: summarize(sendLags),
  };
}

export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
}

/**
 * A keep-alive GET client of one base URL with a bearer token. `get` resolves with the body as text
 * once its last byte arrived: callers time that and parse afterwards (parsing is the client's work,
 * not the server's).
 */
export function httpClient(baseUrl: string, token: string, sockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  const base = new URL(baseUrl);
  const headers = { authorization: `Bearer ${token}` };
  return {
    get(path: string): Promise<string> {
      return new Promise((resolve, reject) => {
        const req = http.get({ agent, host: base.hostname, port: base.port, path, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            if (res.statusCode === 200) resolve(Buffer.concat(chunks).toString('utf8'));
            else reject(new HttpStatusError(`GET ${path}: HTTP ${res.statusCode}`));
          });
        });
        req.on('error', reject);
      });
    },
    close(): Promise<void> {
      agent.destroy();
      return Promise.resolve();
    },
  };
}
