/**
 * One simulated agent's life over a transport: (re)connect with backoff, send its first message,
 * heartbeat every offered interval ±jitter with one message in flight, react to replies (see
 * AgentState), leave gracefully (agent_disconnect) or die silently. `SimAgent` holds what both
 * transports share; ws-agent.ts and http-agent.ts implement the transport.
 */
import {
  type AgentToServerInit,
  encodeAgentToServer,
  encodeWsAgentFrame,
  type ServerToAgent,
} from '@opamp-fleet/opamp';
import { tally } from '../load/dial-errors.js';
import { jitteredInterval } from '../load/schedule.js';
import { AgentState } from './agent-state.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { SimCounters } from './counters.js';
import type { SampleBuffer } from './samples.js';

/** What every agent of one simulator process shares. */
export interface SimEnv {
  /** ws:// URL of the OpAMP endpoint (HTTP agents use the same host, port and path over http://). */
  url: string;
  token: string | null;
  counters: SimCounters;
  /** Send -> reply, ms, every answered message, by transport. */
  latencyMs: Record<Transport, SampleBuffer>;
  /** Drop -> first reply on the new connection, ms. */
  reconnectMs: SampleBuffer;
  backoff: BackoffOptions;
  /** Heartbeat interval jitter, fraction (0.1 = ±10 %). */
  jitter: number;
  /** Raw echo server: any binary reply counts, nothing is decoded. */
  echo: boolean;
  random: () => number;
}

export type Transport = 'ws' | 'http';
export type AgentMode = 'running' | 'dead' | 'gone';

export abstract class SimAgent {
  readonly state: AgentState;
  mode: AgentMode = 'running';
  protected connected = false;
  private inFlightAt: number | null = null;
  private droppedAt: number | null = null;
  private owedFullState = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private firstConnect: (() => void) | null = null;
  /** Resolves at the agent's first connection or first drop (dial pacing). */
  readonly settled: Promise<void>;

  abstract readonly transport: Transport;

  constructor(
    protected readonly env: SimEnv,
    slot: number,
    intervalMs: number,
    protected readonly localAddress: string,
  ) {
    this.state = new AgentState(slot, intervalMs);
    this.backoff = new Backoff(env.backoff, env.random);
    this.settled = new Promise((resolve) => {
      this.firstConnect = resolve;
    });
    env.counters.agents++;
  }

  /** Dials (WS) or sends the first poll (HTTP). */
  abstract start(): void;
  /** Graceful leave: agent_disconnect, then close. */
  abstract leave(): Promise<void>;
  /** Drops the connection without a word (end of a run). */
  abstract terminate(): void;
  /** Sends one encoded message; false when there is no usable connection. */
  protected abstract transmit(message: Uint8Array): boolean;

  get isConnected(): boolean {
    return this.connected;
  }

  /** The message is lost before it leaves: the server will see a sequence gap. */
  loseNextMessage(): void {
    this.state.skipSequenceNumber();
  }

  /** Stops sending; the connection (WS) stays open, polls (HTTP) just stop. */
  die(): void {
    if (this.mode !== 'running') return;
    this.retire('dead');
    this.env.counters.deaths++;
  }

  protected encode(message: AgentToServerInit): Uint8Array {
    return this.transport === 'ws' ? encodeWsAgentFrame(message) : encodeAgentToServer(message);
  }

  /** Sends the next status message unless one is unanswered; schedules the next heartbeat. */
  protected sendNext(): void {
    if (this.mode !== 'running') return;
    this.scheduleHeartbeat();
    if (this.inFlightAt !== null) {
      this.env.counters.skipped++;
      return;
    }
    const full = this.state.sendsFullState;
    const bytes = this.encode(this.state.nextMessage());
    this.inFlightAt = performance.now();
    if (!this.transmit(bytes)) {
      this.inFlightAt = null;
      return;
    }
    this.env.counters.sent++;
    if (full && this.owedFullState) {
      this.owedFullState = false;
      this.env.counters.fullStateSent++;
    }
  }

  private scheduleHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    const delay = jitteredInterval(this.state.intervalMs, this.env.jitter, this.env.random);
    this.heartbeatTimer = setTimeout(() => this.sendNext(), delay);
  }

  /** A reply arrived (a ServerToAgent, or any frame from an echo server). */
  protected onReply(data: Uint8Array): void {
    const sentAt = this.inFlightAt;
    this.inFlightAt = null;
    if (this.mode !== 'running') return;
    const { counters } = this.env;
    if (sentAt !== null) this.env.latencyMs[this.transport].add(performance.now() - sentAt);
    if (this.env.echo) {
      counters.answered++;
      this.markConnected();
      return;
    }
    let reaction: ReturnType<AgentState['onReply']>;
    try {
      reaction = this.state.onReply(this.decode(data));
    } catch {
      this.countError('undecodable-reply');
      return;
    }
    if (reaction.retryAfterMs !== null) {
      this.countError(reaction.error ?? 'unavailable');
      this.drop('unavailable', reaction.retryAfterMs);
      return;
    }
    if (reaction.error !== null) {
      this.countError(reaction.error);
      return;
    }
    counters.answered++;
    if (reaction.uidChanged) counters.uidChanges++;
    this.markConnected();
    if (reaction.newIntervalMs !== null) this.scheduleHeartbeat();
    if (reaction.fullStateRequested) {
      counters.fullStateRequested++;
      this.owedFullState = true;
      this.sendNext();
    }
  }

  /** Decodes a reply (WS frames carry a header); throws on a malformed one. */
  protected abstract decode(data: Uint8Array): ServerToAgent;

  private markConnected(): void {
    if (this.connected) return;
    const { counters } = this.env;
    this.connected = true;
    counters.connected++;
    counters.connects++;
    if (this.transport === 'http') counters.connectedHttp++;
    else counters.connectsWs++;
    this.backoff.reset();
    if (this.droppedAt !== null) {
      counters.reconnects++;
      this.env.reconnectMs.add(performance.now() - this.droppedAt);
      this.droppedAt = null;
    }
    this.settle();
  }

  private setDisconnected(): void {
    if (!this.connected) return;
    this.connected = false;
    this.env.counters.connected--;
    if (this.transport === 'http') this.env.counters.connectedHttp--;
  }

  protected countError(kind: string): void {
    this.env.counters.errors++;
    tally(this.env.counters.errorKinds, kind);
  }

  /** The connection was lost (or never made): retry after the backoff (or the server's Retry-After). */
  protected drop(kind: string, retryAfterMs: number | null): void {
    if (this.mode !== 'running') return;
    this.inFlightAt = null;
    clearTimeout(this.heartbeatTimer);
    this.setDisconnected();
    this.env.counters.drops++;
    tally(this.env.counters.dropKinds, kind);
    this.droppedAt ??= performance.now();
    this.settle();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.reconnect(), this.backoff.next(retryAfterMs));
  }

  /** Opens a new connection (WS) or polls again (HTTP). */
  protected abstract reconnect(): void;

  /** Stops for good ('dead': silent, 'gone': left or terminated). */
  protected retire(mode: Exclude<AgentMode, 'running'>): void {
    if (this.mode === 'running') this.env.counters.agents--;
    this.mode = mode;
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.retryTimer);
    this.setDisconnected();
    this.settle();
  }

  private settle(): void {
    this.firstConnect?.();
    this.firstConnect = null;
  }
}
