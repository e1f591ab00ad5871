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

/** The measured window of a steady heartbeat stream (sends between mark and stop). */
export interface StreamOutcome {
  sent: number;
  replied: number;
  /** Measured heartbeats without a reply by the end of the stop timeout, lost sockets included. */
  unanswered: number;
  /** Heartbeats due in the window but not sent because the agent's previous one was unanswered. */
  skippedInFlight: number;
  badReplies: number;
  /** Sockets that closed without the generator asking, since the previous phase. */
  unexpectedCloses: number;
  latencyMs: number[];
  /** How late each measured heartbeat left after its due time: the generator's own lag. */
  sendLagMs: number[];
  /** Epoch ms of the window's start and end (the earliest start and latest end when merged). */
  windowStartedAt: number;
  windowEndedAt: number;
  /**
   * Every agent with at least one valid reply during the whole stream (warm-up included): its
   * instance uid and the epoch ms its last answered heartbeat was sent.
   */
  lastAnswered: { ids: string[]; sentAt: number[] };
  /** Generator usage during the window. */
  usage: GeneratorUsage;
}

/**
 * A fleet of simulated agents. Phases run one at a time: `connect()` once, then any number of
 * `round()`s or streams (`startStream()`, `markStream()`, `stopStream()`), then `close()`; calling a
 * phase while another runs is an error. `counters()` may be read at any time (a snapshot, never blocks).
 */
export interface LoadGenerator {
  connect(): Promise<ConnectOutcome>;
  /** Every connected agent sends one heartbeat, spread evenly over `windowMs`; waits for replies up to `timeoutMs` after the window. */
  round(windowMs: number, timeoutMs: number): Promise<RoundOutcome>;
  /**
   * Every connected agent starts heartbeating every `intervalMs` (±`jitter` per interval), first
   * sends spread over one interval; resolves once started. Runs until `stopStream()`.
   */
  startStream(intervalMs: number, jitter: number): Promise<void>;
  /** Opens the measured window of the running stream. */
  markStream(): Promise<void>;
  /** Stops sending, waits up to `timeoutMs` for replies to measured heartbeats, ends the stream. */
  stopStream(timeoutMs: number): Promise<StreamOutcome>;
  counters(): FleetCounters;
  /** Closes every socket (and generator process). Idempotent. */
  close(): Promise<void>;
}

/** Builds the frames one simulated agent sends and judges the replies it receives. */
export interface AgentProtocol {
  firstFrame(agentIndex: number): Uint8Array;
  heartbeatFrame(agentIndex: number): Uint8Array;
  /** The canonical instance uid of an agent that sent its first frame. */
  agentId(agentIndex: number): string;
  isValidReply(agentIndex: number, data: Uint8Array): boolean;
}
