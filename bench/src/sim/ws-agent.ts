/** `WsAgent`: a simulated agent on one WebSocket (`ws`), reconnecting on every close it did not ask for. */
import { decodeWsServerFrame, type ServerToAgent } from '@opamp-fleet/opamp';
import WebSocket from 'ws';
import { classifyDialError } from '../load/dial-errors.js';
import { closeAction, closeLabel } from './agent-state.js';
import { parseRetryAfter } from './backoff.js';
import { SimAgent, type Transport } from './sim-agent.js';

const HANDSHAKE_TIMEOUT_MS = 15_000;
const GOODBYE_CLOSE_MS = 5_000;

export class WsAgent extends SimAgent {
  readonly transport: Transport = 'ws';
  private socket: WebSocket | null = null;

  start(): void {
    this.open();
  }

  protected reconnect(): void {
    this.open();
  }

  private open(): void {
    if (this.mode !== 'running') return;
    const headers: Record<string, string> =
      this.env.token === null ? {} : { authorization: `Bearer ${this.env.token}` };
    const socket = new WebSocket(this.env.url, {
      localAddress: this.localAddress,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      headers,
    });
    this.socket = socket;
    let failure: { kind: string; retryAfterMs: number | null } | null = null;
    socket.on('open', () => this.sendNext());
    socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.onReply(data);
    });
    socket.on('unexpected-response', (request, response) => {
      failure = {
        kind: `http-${response.statusCode}`,
        retryAfterMs: parseRetryAfter(response.headers['retry-after'], Date.now()),
      };
      response.resume();
      request.destroy();
    });
    socket.on('error', (error) => {
      failure ??= { kind: classifyDialError(error), retryAfterMs: null };
    });
    socket.on('close', (code, reason) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.mode !== 'running') return;
      if (failure !== null) return this.drop(failure.kind, failure.retryAfterMs);
      const label = closeLabel(code, reason.toString());
      if (closeAction(code) === 'stop') {
        this.countError(`closed ${label}`);
        this.retire('gone');
        return;
      }
      this.drop(label, null);
    });
  }

  protected transmit(message: Uint8Array): boolean {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(message);
    return true;
  }

  protected decode(data: Uint8Array): ServerToAgent {
    return decodeWsServerFrame(data);
  }

  async leave(): Promise<void> {
    if (this.mode !== 'running') return;
    const socket = this.socket;
    const bye = this.encode(this.state.goodbye());
    this.retire('gone');
    this.env.counters.goodbyes++;
    if (socket === null || socket.readyState !== WebSocket.OPEN) {
      socket?.terminate();
      return;
    }
    socket.send(bye);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, GOODBYE_CLOSE_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1000, 'agent_disconnect');
    });
  }

  terminate(): void {
    if (this.mode === 'running') this.retire('gone');
    this.socket?.terminate();
    this.socket = null;
  }
}
