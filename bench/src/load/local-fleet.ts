import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { classifyDialError, tally } from './dial-errors.js';
import { LocalStream } from './local-stream.js';
import type { FleetIo, HeartbeatPhase } from './phase.js';
import { processUsageSince } from './process-usage.js';
import { RoundPhase } from './round-phase.js';
import { sourceAddressFor } from './schedule.js';
import type {
  AgentProtocol,
  ConnectOutcome,
  FleetCounters,
  FleetSpec,
  LoadGenerator,
  RoundOutcome,
  StreamOutcome,
} from './types.js';

const MAX_DIAL_ATTEMPTS = 3;
const RETRY_BACKOFF_MS = 250;
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** After the last socket opened, how long the connect phase waits for missing first replies. */
const FIRST_REPLY_GRACE_MS = 30_000;
const CLOSE_TIMEOUT_MS = 10_000;

/** `sentRound` values: not awaiting a reply, or awaiting the reply to the first message. */
const IDLE = -2;
const FIRST = -1;

const epochNow = (): number => performance.timeOrigin + performance.now();

interface ConnectState {
  outcome: ConnectOutcome;
  settle: (k: number) => void;
}

/** Drives `spec.start..spec.end` agents from this process with `ws` clients. */
export function createLocalFleet(spec: FleetSpec, protocol: AgentProtocol): LoadGenerator {
  return new LocalFleet(spec, protocol);
}

class LocalFleet implements LoadGenerator {
  private readonly size: number;
  private readonly sockets: Array<WebSocket | undefined>;
  private readonly sentAt: Float64Array;
  private readonly sentRound: Int32Array;
  private readonly ready: Uint8Array;
  private readonly live: FleetCounters;
  private connectState: ConnectState | null = null;
  private phase: HeartbeatPhase | null = null;
  private stream: LocalStream | null = null;
  private phaseTag = 0;
  private readonly io: FleetIo;
  private unexpectedCloses = 0;
  private busy = false;
  private closing: Promise<void> | null = null;
  private openSockets = 0;
  private onAllClosed: (() => void) | null = null;

  constructor(
    private readonly spec: FleetSpec,
    private readonly protocol: AgentProtocol,
  ) {
    this.size = spec.end - spec.start;
    this.sockets = new Array<WebSocket | undefined>(this.size);
    this.sentAt = new Float64Array(this.size);
    this.sentRound = new Int32Array(this.size).fill(IDLE);
    this.ready = new Uint8Array(this.size);
    this.live = { requested: this.size, connected: 0, sent: 0, received: 0, errors: 0 };
    this.io = {
      size: this.size,
      isReady: (k) => this.ready[k] === 1,
      sendHeartbeat: (k, tag) => {
        const ws = this.sockets[k];
        if (ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
        this.send(k, ws, this.protocol.heartbeatFrame(this.spec.start + k), tag);
        return true;
      },
      agentId: (k) => this.protocol.agentId(this.spec.start + k),
    };
  }

  counters(): FleetCounters {
    return { ...this.live };
  }

  async connect(): Promise<ConnectOutcome> {
    return this.exclusive(async () => {
      const cpuStart = process.cpuUsage();
      const outcome: ConnectOutcome = {
        requested: this.size,
        connected: 0,
        failed: 0,
        firstDialAt: epochNow(),
        lastReplyAt: 0,
        dialErrors: {},
        handshakeMs: [],
        firstReplyMs: [],
        badReplies: 0,
        usage: processUsageSince(process.cpuUsage()),
      };
      await new Promise<void>((resolve) => {
        const settled = new Uint8Array(this.size);
        let settledCount = 0;
        let next = 0;
        let inFlight = 0;
        let graceTimer: NodeJS.Timeout | undefined;
        let finished = false;
        const finish = (): void => {
          finished = true;
          clearTimeout(graceTimer);
          this.connectState = null;
          resolve();
        };
        const settle = (k: number): void => {
          if (settled[k] === 1) return;
          settled[k] = 1;
          settledCount++;
          if (this.ready[k] === 1) outcome.connected++;
          else outcome.failed++;
          if (settledCount === this.size) finish();
        };
        const pump = (): void => {
          while (inFlight < this.spec.dialConcurrency && next < this.size) {
            inFlight++;
            this.dial(next++, 1, () => {
              inFlight--;
              pump();
              // Every dial is done: give the missing first replies a grace period, then stop waiting.
              if (next === this.size && inFlight === 0 && graceTimer === undefined && !finished) {
                graceTimer = setTimeout(() => {
                  for (let k = 0; k < this.size; k++) settle(k);
                  finish();
                }, FIRST_REPLY_GRACE_MS);
              }
            });
          }
        };
        this.connectState = { outcome, settle };
        if (this.size === 0) finish();
        else pump();
      });
      if (outcome.lastReplyAt === 0) outcome.lastReplyAt = outcome.firstDialAt;
      outcome.usage = processUsageSince(cpuStart);
      return outcome;
    });
  }

  /** Dials agent `k`, retrying failed handshakes; `done` runs once, when it opened or gave up. */
  private dial(k: number, attempt: number, done: () => void): void {
    const index = this.spec.start + k;
    const started = performance.now();
    const ws = new WebSocket(this.spec.url, {
      localAddress: sourceAddressFor(index, this.spec.agentsPerSourceAddress),
      family: 4,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      // All-zero masking keys: ws then skips masking the payload (a server unmasks every frame the
      // same way whatever the key), so the generator spends its CPU on sending, not on masking.
      generateMask: leaveMaskZero,
      headers: this.spec.token === null ? {} : { Authorization: `Bearer ${this.spec.token}` },
    });
    let opened = false;
    let failed = false;
    ws.on('open', () => {
      opened = true;
      this.openSockets++;
      this.sockets[k] = ws;
      this.connectState?.outcome.handshakeMs.push(performance.now() - started);
      this.send(k, ws, this.protocol.firstFrame(index), FIRST);
      done();
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onReply(k, data, isBinary));
    ws.on('error', (error) => {
      if (opened || failed) return;
      failed = true;
      this.live.errors++;
      if (this.connectState) tally(this.connectState.outcome.dialErrors, classifyDialError(error));
      if (attempt < MAX_DIAL_ATTEMPTS && this.closing === null) {
        setTimeout(() => this.dial(k, attempt + 1, done), RETRY_BACKOFF_MS * attempt);
      } else {
        this.connectState?.settle(k);
        done();
      }
    });
    ws.on('close', () => {
      if (opened) this.onClose(k, ws);
    });
  }

  private send(k: number, ws: WebSocket, frame: Uint8Array, round: number): void {
    this.sentRound[k] = round;
    this.sentAt[k] = performance.now();
    this.live.sent++;
    ws.send(frame, { binary: true });
  }

  private onReply(k: number, data: Buffer, isBinary: boolean): void {
    const latency = performance.now() - this.sentAt[k]!;
    const round = this.sentRound[k]!;
    this.sentRound[k] = IDLE;
    this.live.received++;
    const valid = isBinary && this.protocol.isValidReply(this.spec.start + k, data);
    if (!valid) this.live.errors++;
    if (round === FIRST && this.connectState) {
      const { outcome, settle } = this.connectState;
      outcome.firstReplyMs.push(latency);
      outcome.lastReplyAt = epochNow();
      if (!valid) outcome.badReplies++;
      this.ready[k] = 1;
      this.live.connected++;
      settle(k);
    } else if (this.phase && round === this.phase.tag) {
      this.phase.onReply(k, latency, valid);
    }
  }

  private onClose(k: number, ws: WebSocket): void {
    if (this.sockets[k] === ws) this.sockets[k] = undefined;
    this.openSockets--;
    if (this.ready[k] === 1) this.live.connected--;
    this.ready[k] = 0;
    if (this.closing !== null) {
      if (this.openSockets === 0) this.onAllClosed?.();
      return;
    }
    this.unexpectedCloses++;
    this.live.errors++;
    const round = this.sentRound[k]!;
    this.sentRound[k] = IDLE;
    if (round === FIRST) this.connectState?.settle(k);
    else if (this.phase && round === this.phase.tag) this.phase.onLost(k);
  }

  async round(windowMs: number, timeoutMs: number): Promise<RoundOutcome> {
    return this.exclusive(async () => {
      const cpuStart = process.cpuUsage();
      const closesBefore = this.unexpectedCloses;
      const phase = new RoundPhase(this.io, ++this.phaseTag, windowMs, timeoutMs);
      this.phase = phase;
      try {
        const counts = await phase.run();
        return {
          ...counts,
          unexpectedCloses: this.unexpectedCloses - closesBefore,
          usage: processUsageSince(cpuStart),
        };
      } finally {
        this.phase = null;
      }
    });
  }

  async startStream(intervalMs: number, jitter: number): Promise<void> {
    this.enter();
    const stream = new LocalStream(this.io, ++this.phaseTag, intervalMs, jitter, () => this.unexpectedCloses);
    this.stream = stream;
    this.phase = stream.phase;
  }

  async markStream(): Promise<void> {
    this.requireStream().mark();
  }

  async stopStream(timeoutMs: number): Promise<StreamOutcome> {
    const stream = this.requireStream();
    try {
      return await stream.stop(timeoutMs);
    } finally {
      this.stream = null;
      this.phase = null;
      this.busy = false;
    }
  }

  private requireStream(): LocalStream {
    if (this.stream === null) throw new Error('no heartbeat stream is running');
    return this.stream;
  }

  close(): Promise<void> {
    this.stream?.abort();
    this.closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const ws of this.sockets) ws?.terminate();
        resolve();
      }, CLOSE_TIMEOUT_MS);
      this.onAllClosed = () => {
        clearTimeout(timer);
        resolve();
      };
      if (this.openSockets === 0) this.onAllClosed();
      for (const ws of this.sockets) ws?.close(1000);
    });
    return this.closing;
  }

  /** Starts a phase: none may be running and the fleet must be open. */
  private enter(): void {
    if (this.busy) throw new Error('a fleet phase is already running');
    if (this.closing !== null) throw new Error('the fleet is closed');
    this.busy = true;
  }

  private async exclusive<T>(phase: () => Promise<T>): Promise<T> {
    this.enter();
    try {
      return await phase();
    } finally {
      this.busy = false;
    }
  }
}

/** A WebSocket masking-key generator that leaves the key as allocated: four zero bytes. */
function leaveMaskZero(): void {}
