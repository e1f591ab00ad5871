import {
  AgentCapabilities,
  AgentToServerFlags,
  type AgentToServerInit,
  decodeWsServerFrame,
  encodeAgentToServer,
  encodeWsAgentFrame,
  hasCapability,
  newInstanceUid,
  type ServerToAgent,
  ServerToAgentFlags,
  uidBytesToId,
  uint64ToBitmask,
  uint64ToCounter,
} from '@opamp-fleet/opamp';
import WebSocket from 'ws';
import { ReplyQueue } from './reply-queue.js';

/** The server refused the WebSocket upgrade with an HTTP answer (401, 503, ...). */
export class UpgradeRejectedError extends Error {
  override readonly name = 'UpgradeRejectedError';
  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string | string[] | undefined>>,
  ) {
    super(`WebSocket upgrade rejected with HTTP ${status}`);
  }
}

export interface TestAgentOptions {
  /** e.g. `ws://127.0.0.1:4320/v1/opamp`. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Default: a fresh UUIDv7. */
  readonly instanceUid?: Uint8Array;
  /** Default: ReportsStatus | ReportsHealth | ReportsHeartbeat | AcceptsOpAMPConnectionSettings. */
  readonly capabilities?: number;
  /** sequence_num of the first message. Default 0 (as opamp-go). */
  readonly firstSequenceNum?: number;
  /** Identifying attributes of agent_description. Default service.name = opamp-fleet-test-agent. */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Send frames without the 0x00 header, as agents before spec v0.7 did. */
  readonly legacyFrames?: boolean;
  /** How long `send` and friends wait for a reply. Default 5000. */
  readonly replyTimeoutMs?: number;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export const DEFAULT_TEST_AGENT_CAPABILITIES =
  AgentCapabilities.ReportsStatus |
  AgentCapabilities.ReportsHealth |
  AgentCapabilities.ReportsHeartbeat |
  AgentCapabilities.AcceptsOpAMPConnectionSettings;

/**
 * A simulated OpAMP agent on the WebSocket transport (built on `ws`), for tests and benchmarks.
 * Behaves like a real agent: every message carries instance_uid, a sequence_num one above the
 * previous and the capabilities; the first message is a full state report; a reply with
 * ReportFullState makes the next message a full report; a new_instance_uid addressed to this agent is
 * adopted for later messages; `disconnect` says goodbye with agent_disconnect, then a Close frame.
 * Replies are matched to requests in order (the server answers each message exactly once).
 */
export class TestAgent {
  uid: Uint8Array;
  nextSeq: number;
  capabilities: number;
  /** The server asked for the full state; the next `send` includes it. */
  fullStatePending = true;
  /** Heartbeat interval the server offered, in seconds, if any. */
  offeredHeartbeatSeconds: number | null = null;
  /** Every reply received, in order. */
  readonly replies: ServerToAgent[] = [];

  private readonly queue = new ReplyQueue<ServerToAgent>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly closed: Promise<CloseInfo>;

  private constructor(
    private readonly ws: WebSocket,
    private readonly o: TestAgentOptions,
  ) {
    this.uid = o.instanceUid ?? newInstanceUid();
    this.nextSeq = o.firstSequenceNum ?? 0;
    this.capabilities = o.capabilities ?? DEFAULT_TEST_AGENT_CAPABILITIES;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return this.queue.fail(new Error('server sent a text frame'));
      try {
        const reply = decodeWsServerFrame(new Uint8Array(data));
        this.replies.push(reply);
        this.queue.push(reply);
      } catch (err) {
        this.queue.fail(err as Error);
      }
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.stopHeartbeats();
        this.queue.fail(new Error(`connection closed (${code} ${reason.toString()})`));
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /** Opens the WebSocket. Rejects with {@link UpgradeRejectedError} when the server answers HTTP. */
  static connect(options: TestAgentOptions): Promise<TestAgent> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const ws = new WebSocket(options.url, { headers, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.removeAllListeners('error');
        ws.on('error', () => {});
        resolve(new TestAgent(ws, options));
      });
      ws.once('unexpected-response', (_req, res) => {
        reject(new UpgradeRejectedError(res.statusCode ?? 0, res.headers));
        res.resume();
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  /** Canonical id of the current instance_uid. */
  get id(): string {
    return uidBytesToId(this.uid);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Sends one AgentToServer (instance_uid, sequence_num and capabilities filled in; the full state
   * added when pending) and resolves with the server's reply, which it has applied.
   */
  async send(fields: AgentToServerInit = {}): Promise<ServerToAgent> {
    const msg = this.build(fields);
    this.fullStatePending = false;
    this.writeFrame(msg);
    return this.apply(await this.queue.next(this.timeoutMs));
  }

  /** A bare heartbeat (no status), unless the server asked for the full state. */
  heartbeat(): Promise<ServerToAgent> {
    return this.send();
  }

  /** Sends the full state now. */
  sendFullState(): Promise<ServerToAgent> {
    this.fullStatePending = true;
    return this.send();
  }

  /** Asks the server to assign an instance_uid (RequestInstanceUid); adopts it from the reply. */
  requestInstanceUid(): Promise<ServerToAgent> {
    return this.send({ flags: AgentToServerFlags.RequestInstanceUid });
  }

  /** Pretends `count` messages were lost: the next message's sequence_num jumps. */
  skipSequence(count = 1): void {
    this.nextSeq += count;
  }

  /** Says goodbye: agent_disconnect, waits for its reply, sends a Close frame, waits for the close. */
  async disconnect(): Promise<CloseInfo> {
    this.stopHeartbeats();
    await this.send({ agentDisconnect: {} });
    if (this.isOpen) this.ws.close(1000, 'agent shutting down');
    return this.closed;
  }

  /** Sends raw bytes (binary frame) or a string (text frame), bypassing the protocol. */
  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data, { binary: typeof data !== 'string' });
  }

  /** The next reply not yet consumed by `send` (after `sendRaw`, or one the server pushed). */
  nextReply(timeoutMs = this.timeoutMs): Promise<ServerToAgent> {
    return this.queue.next(timeoutMs).then((r) => this.apply(r));
  }

  /** Resolves when the connection closed, with the close code and reason the server sent. */
  waitForClose(timeoutMs = this.timeoutMs): Promise<CloseInfo> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs);
      void this.closed.then((info) => {
        clearTimeout(timer);
        resolve(info);
      });
    });
  }

  /** Sends a heartbeat every `intervalMs` (or the offered interval) until stopped or closed. */
  startHeartbeats(intervalMs = (this.offeredHeartbeatSeconds ?? 30) * 1000): void {
    this.stopHeartbeats();
    this.heartbeatTimer = setInterval(() => {
      if (this.isOpen) this.heartbeat().catch(() => this.stopHeartbeats());
    }, intervalMs);
    this.heartbeatTimer.unref();
  }

  stopHeartbeats(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** Closes with a Close frame (no goodbye message) and waits for the close. */
  async close(code = 1000): Promise<CloseInfo> {
    this.stopHeartbeats();
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(code);
    }
    return this.closed;
  }

  /** Drops the TCP connection without a Close frame. */
  terminate(): void {
    this.stopHeartbeats();
    this.ws.terminate();
  }

  private get timeoutMs(): number {
    return this.o.replyTimeoutMs ?? 5000;
  }

  private build(fields: AgentToServerInit): AgentToServerInit {
    const msg: AgentToServerInit = {
      instanceUid: this.uid,
      sequenceNum: this.nextSeq,
      capabilities: this.capabilities,
      ...fields,
    };
    this.nextSeq += 1;
    if (this.fullStatePending) {
      msg.agentDescription ??= this.description();
      if (hasCapability(this.capabilities, AgentCapabilities.ReportsHealth)) {
        msg.health ??= { healthy: true, status: 'running' };
      }
    }
    return msg;
  }

  private description(): NonNullable<AgentToServerInit['agentDescription']> {
    const attributes = this.o.attributes ?? { 'service.name': 'opamp-fleet-test-agent' };
    return {
      identifyingAttributes: Object.entries(attributes).map(([key, value]) => ({
        key,
        value: { stringValue: value },
      })),
    };
  }

  private writeFrame(msg: AgentToServerInit): void {
    this.ws.send(this.o.legacyFrames ? encodeAgentToServer(msg) : encodeWsAgentFrame(msg), { binary: true });
  }

  private apply(reply: ServerToAgent): ServerToAgent {
    if (!sameBytes(reply.instanceUid, this.uid)) return reply;
    if (hasCapability(uint64ToBitmask(reply.flags), ServerToAgentFlags.ReportFullState))
      this.fullStatePending = true;
    const newUid = reply.agentIdentification?.newInstanceUid;
    if (newUid && newUid.length === 16) this.uid = new Uint8Array(newUid);
    const offered = reply.connectionSettings?.opamp?.heartbeatIntervalSeconds;
    if (offered != null) this.offeredHeartbeatSeconds = uint64ToCounter(offered);
    return reply;
  }
}

function sameBytes(a: Uint8Array | null | undefined, b: Uint8Array): boolean {
  return a != null && a.length === b.length && a.every((v, i) => v === b[i]);
}
