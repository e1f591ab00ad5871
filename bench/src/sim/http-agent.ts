/**
 * `HttpAgent`: a simulated agent over plain HTTP: every message is one POST application/x-protobuf
 * on a keep-alive connection pool, its answer the ServerToAgent. The agent is connected while its
 * polls are answered; a failed poll (refused, 503/429 with Retry-After, reset) is a drop, retried
 * with backoff.
 */
import http from 'node:http';
import { decodeServerToAgent, type ServerToAgent } from '@opamp-fleet/opamp';
import { classifyDialError } from '../load/dial-errors.js';
import { parseRetryAfter } from './backoff.js';
import { SimAgent, type SimEnv, type Transport } from './sim-agent.js';

const REQUEST_TIMEOUT_MS = 15_000;

/** The plain-HTTP URL of a ws:// OpAMP endpoint. */
export function httpUrlOf(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.toString();
}

/** A keep-alive pool for the agents of one source address. */
export function createHttpPool(localAddress: string): http.Agent {
  // idle sockets are closed before the server's own idle timeout (uWS: 10 s) can race a reuse
  return new http.Agent({
    keepAlive: true,
    maxSockets: 64,
    scheduling: 'lifo',
    timeout: 5_000,
    localAddress,
  });
}

interface PollResult {
  status: number;
  body: Buffer;
  retryAfterMs: number | null;
}

export class HttpAgent extends SimAgent {
  readonly transport: Transport = 'http';
  private readonly url: URL;

  constructor(
    env: SimEnv,
    slot: number,
    intervalMs: number,
    localAddress: string,
    private readonly pool: http.Agent,
  ) {
    super(env, slot, intervalMs, localAddress);
    this.url = new URL(httpUrlOf(env.url));
  }

  start(): void {
    this.sendNext();
  }

  protected reconnect(): void {
    this.sendNext();
  }

  protected transmit(message: Uint8Array): boolean {
    this.post(message).then(
      (result) => {
        if (this.mode !== 'running') return;
        if (result.status === 200) return this.onReply(result.body);
        this.drop(`http-${result.status}`, result.retryAfterMs);
      },
      (error: unknown) => this.drop(classifyDialError(error), null),
    );
    return true;
  }

  protected decode(data: Uint8Array): ServerToAgent {
    return decodeServerToAgent(data);
  }

  /** One POST; retried once when a reused keep-alive socket turned out closed. */
  private async post(message: Uint8Array, retry = true): Promise<PollResult> {
    try {
      return await this.request(message);
    } catch (error) {
      if (retry && (error as { reused?: boolean }).reused === true) return this.post(message, false);
      throw error;
    }
  }

  private request(message: Uint8Array): Promise<PollResult> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {
        'content-type': 'application/x-protobuf',
        'content-length': message.length,
        'opamp-instance-uid': this.state.id,
      };
      if (this.env.token !== null) headers.authorization = `Bearer ${this.env.token}`;
      const request = http.request(this.url, { method: 'POST', agent: this.pool, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks),
            retryAfterMs: parseRetryAfter(response.headers['retry-after'], Date.now()),
          }),
        );
      });
      request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error('request timed out')));
      request.on('error', (error) => reject(Object.assign(error, { reused: request.reusedSocket })));
      request.end(message);
    });
  }

  async leave(): Promise<void> {
    if (this.mode !== 'running') return;
    const bye = this.encode(this.state.goodbye());
    this.retire('gone');
    this.env.counters.goodbyes++;
    await this.post(bye).catch(() => undefined);
  }

  terminate(): void {
    if (this.mode === 'running') this.retire('gone');
  }
}
