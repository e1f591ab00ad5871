/** How replies are judged: OpAMP ServerToAgent frames, or any binary frame (an echo server). */
export type ReplyCheck = 'opamp' | 'echo';

/** Everything a generator process needs to drive its slice of the fleet; plain data, sent over IPC. */
export interface FleetSpec {
  url: string;
  /** Bearer token for the upgrade request, or null for none. */
  token: string | null;
  /** Global agent indices `[start, end)` driven by this generator. */
  start: number;
  end: number;
  dialConcurrency: number;
  agentsPerSourceAddress: number;
  replyCheck: ReplyCheck;
}

/** Live counters for the progress line; monotonic except `connected`. */
export interface FleetCounters {
  requested: number;
  connected: number;
  sent: number;
  received: number;
  errors: number;
}

/** CPU and memory a generator used during one phase, summed over its processes. */
export interface GeneratorUsage {
  processes: number;
  cpuSeconds: number;
  /** CPU seconds of the busiest single process: near the phase's wall time means it was saturated. */
  peakProcessCpuSeconds: number;
  rssBytes: number;
}

export interface ConnectOutcome {
  requested: number;
  /** Agents whose socket opened and whose first message got a reply. */
  connected: number;
  failed: number;
  /** Epoch milliseconds (sub-ms resolution, comparable across processes) of the first dial. */
  firstDialAt: number;
  /** Epoch milliseconds of the last first reply (equal to firstDialAt when none arrived). */
  lastReplyAt: number;
  /** Failed dial attempts by kind (`ECONNREFUSED`, `http-503`, `handshake-timeout`, ...), retries included. */
  dialErrors: Record<string, number>;
  handshakeMs: number[];
  firstReplyMs: number[];
  badReplies: number;
  usage: GeneratorUsage;
}

export interface RoundOutcome {
  sent: number;
  replied: number;
  /** Heartbeats due that got no reply in time, including those whose socket was gone or closed. */
  unanswered: number;
  badReplies: number;
  /** Sockets that closed without the generator asking, since the previous phase. */
  unexpectedCloses: number;
  latencyMs: number[];
  usage: GeneratorUsage;
}

/**
 * A fleet of simulated agents. Phases run one at a time: `connect()` once, then any number of
 * `round()`s, then `close()`; calling a phase while another runs is an error. `counters()` may be
 * read at any time (it is a snapshot and never blocks).
 */
export interface LoadGenerator {
  connect(): Promise<ConnectOutcome>;
  /** Every connected agent sends one heartbeat, spread evenly over `windowMs`; waits for replies up to `timeoutMs` after the window. */
  round(windowMs: number, timeoutMs: number): Promise<RoundOutcome>;
  counters(): FleetCounters;
  /** Closes every socket (and generator process). Idempotent. */
  close(): Promise<void>;
}

/** Builds the frames one simulated agent sends and judges the replies it receives. */
export interface AgentProtocol {
  firstFrame(agentIndex: number): Uint8Array;
  heartbeatFrame(agentIndex: number): Uint8Array;
  isValidReply(agentIndex: number, data: Uint8Array): boolean;
}
