/**
 * `runStorm`: the dial policy of the `connect-storm` scenario. N simulated agents (`ws` clients, one
 * process) dial at once; an agent whose upgrade is refused (503 + Retry-After) waits Retry-After
 * scaled by a random factor in [1, 1 + RETRY_AFTER_JITTER) and dials again; other failures back off
 * exponentially with full jitter. An agent counts as connected when its first message is answered.
 * The storm ends when every agent is connected or the deadline passed. `counters()` feeds progress.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createAgentProtocol } from '../load/agent-protocol.js';
import { classifyDialError, tally } from '../load/dial-errors.js';
import { sourceAddressFor } from '../load/schedule.js';
import type { FleetCounters, ReplyCheck } from '../load/types.js';

/** Retry-After is stretched by up to this fraction so refused agents do not return in lock-step. */
export const RETRY_AFTER_JITTER = 0.5;
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 10_000;
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** An opened socket whose first message is unanswered this long counts as a failed attempt. */
const FIRST_REPLY_TIMEOUT_MS = 15_000;

export interface StormSpec {
  url: string;
  agents: number;
  /** Dials in flight at once (agents dial "at once" up to this). */
  dialConcurrency: number;
  agentsPerSourceAddress: number;
  /**
   * Added to agent indices when picking source addresses, so a second storm dials from addresses
   * the first one's TIME_WAIT sockets do not crowd.
   */
  addressOffset: number;
  replyCheck: ReplyCheck;
  /** Agents not connected this long after the first dial give up. */
  deadlineMs: number;
}

export interface StormOutcome {
  requested: number;
  /** Agents whose first message was answered. */
  connected: number;
  /** Every dial, first ones and retries. */
  attempts: number;
  /** Upgrades answered 503 (admission control). */
  refused503: number;
  /** Retry-After values received with 503s (seconds): smallest and largest; null without any. */
  retryAfterSeconds: { min: number; max: number } | null;
  /**
   * Failed attempts by kind (`http-503`, `ECONNRESET`, `closed-before-reply-<close code>` (1006: no
   * close frame), `first-reply-timeout`, ...).
   */
  dialErrors: Record<string, number>;
  badReplies: number;
  /** Per connected agent: upgrade request -> open, of the attempt that succeeded (ms). */
  handshakeMs: number[];
  /** Per connected agent: first message sent -> reply (ms). */
  firstReplyMs: number[];
  /** Per connected agent: storm start -> first reply (ms). */
  timeToConnectMs: number[];
  /** Storm start -> the last agent's first reply (ms); null when not every agent connected. */
  fullFleetMs: number | null;
  /** Generator CPU seconds during the storm (this process). */
  generatorCpuSeconds: number;
}

/** A storm in progress: `done` settles once every agent connected or gave up. */
export interface Storm {
  done: Promise<StormOutcome>;
  counters(): FleetCounters;
  /** Terminates every socket; idempotent. */
  close(): Promise<void>;
}

export function runStorm(spec: StormSpec, random: () => number = Math.random): Storm {
  const protocol = createAgentProtocol(spec.replyCheck);
  const sockets: Array<WebSocket | undefined> = new Array(spec.agents);
  const failures = new Uint16Array(spec.agents);
  const live: FleetCounters = { requested: spec.agents, connected: 0, sent: 0, received: 0, errors: 0 };
  const outcome: StormOutcome = {
    requested: spec.agents,
    connected: 0,
    attempts: 0,
    refused503: 0,
    retryAfterSeconds: null,
    dialErrors: {},
    badReplies: 0,
    handshakeMs: [],
    firstReplyMs: [],
    timeToConnectMs: [],
    fullFleetMs: null,
    generatorCpuSeconds: 0,
  };
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const queue: number[] = Array.from({ length: spec.agents }, (_, k) => k);
  const timers = new Set<NodeJS.Timeout>();
  let head = 0;
  let inFlight = 0;
  let settled = 0;
  let closed = false;
  let finish: (o: StormOutcome) => void = () => {};
  const done = new Promise<StormOutcome>((resolve) => {
    finish = resolve;
  });

  const settle = (): void => {
    settled++;
    if (settled === spec.agents) {
      const { user, system } = process.cpuUsage(cpuStart);
      outcome.generatorCpuSeconds = (user + system) / 1e6;
      finish(outcome);
    }
  };

  const pump = (): void => {
    while (!closed && inFlight < spec.dialConcurrency && head < queue.length) dial(queue[head++]!);
  };

  const retry = (k: number, delayMs: number): void => {
    if (closed) return;
    if (performance.now() + delayMs - started > spec.deadlineMs) {
      settle(); // gives up
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      queue.push(k);
      pump();
    }, delayMs);
    timers.add(timer);
  };

  function dial(k: number): void {
    outcome.attempts++;
    inFlight++;
    const dialedAt = performance.now();
    let sentAt = 0;
    let phase: 'dialing' | 'awaiting-reply' | 'connected' | 'failed' = 'dialing';
    let replyTimer: NodeJS.Timeout | undefined;
    const ws = new WebSocket(spec.url, {
      localAddress: sourceAddressFor(spec.addressOffset + k, spec.agentsPerSourceAddress),
      family: 4,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    const fail = (kind: string, retryAfterMs: number | null): void => {
      if (phase === 'connected' || phase === 'failed') return;
      if (phase === 'dialing') inFlight--;
      phase = 'failed';
      clearTimeout(replyTimer);
      live.errors++;
      tally(outcome.dialErrors, kind);
      failures[k] = Math.min(failures[k]! + 1, 16);
      ws.terminate();
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures[k]! - 1));
      retry(
        k,
        retryAfterMs === null ? backoff * random() : retryAfterMs * (1 + RETRY_AFTER_JITTER * random()),
      );
      pump();
    };
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      const header = Number(res.headers['retry-after']);
      const retryAfter = Number.isFinite(header) && header >= 0 ? header : null;
      if (res.statusCode === 503) {
        outcome.refused503++;
        if (retryAfter !== null) {
          const r = outcome.retryAfterSeconds;
          outcome.retryAfterSeconds = {
            min: Math.min(r?.min ?? retryAfter, retryAfter),
            max: Math.max(r?.max ?? retryAfter, retryAfter),
          };
        }
      }
      fail(`http-${res.statusCode}`, retryAfter === null ? null : retryAfter * 1000);
    });
    ws.on('open', () => {
      if (phase !== 'dialing') return;
      phase = 'awaiting-reply';
      inFlight--;
      sockets[k] = ws;
      outcome.handshakeMs.push(performance.now() - dialedAt);
      sentAt = performance.now();
      live.sent++;
      ws.send(protocol.firstFrame(k), { binary: true });
      replyTimer = setTimeout(() => fail('first-reply-timeout', null), FIRST_REPLY_TIMEOUT_MS);
      pump();
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (phase !== 'awaiting-reply') return;
      clearTimeout(replyTimer);
      live.received++;
      if (!isBinary || !protocol.isValidReply(k, data)) {
        outcome.badReplies++;
        fail('bad-reply', null);
        return;
      }
      phase = 'connected';
      const now = performance.now();
      outcome.firstReplyMs.push(now - sentAt);
      outcome.timeToConnectMs.push(now - started);
      live.connected++;
      outcome.connected++;
      if (outcome.connected === spec.agents) outcome.fullFleetMs = now - started;
      settle();
    });
    ws.on('error', (error) => fail(classifyDialError(error), null));
    ws.on('close', (code: number) => {
      if (phase === 'connected') live.connected--;
      else fail(`closed-before-reply-${code}`, null);
    });
  }

  pump();
  return {
    done,
    counters: () => ({ ...live }),
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      const open = sockets.filter(
        (ws): ws is WebSocket => ws !== undefined && ws.readyState !== WebSocket.CLOSED,
      );
      await Promise.all(
        open.map(
          (ws) =>
            new Promise<void>((resolve) => {
              ws.once('close', () => resolve());
              ws.terminate();
            }),
        ),
      );
    },
  };
}
