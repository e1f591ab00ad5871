/**
 * What a heartbeat phase (a round, the steady stream) may do with a local fleet. Local agent
 * indices `k` run over `0..size-1`; everything runs on the fleet's event loop, never concurrently.
 */
export interface FleetIo {
  readonly size: number;
  /** Whether agent k has connected (its first message was answered) and its socket is still open. */
  isReady(k: number): boolean;
  /**
   * Sends agent k's next heartbeat tagged with the phase's `tag` (its reply or loss is then routed
   * to the phase). False, and nothing sent, when its socket is no longer open.
   */
  sendHeartbeat(k: number, tag: number): boolean;
  /** The canonical instance uid of agent k (it must have sent its first message). */
  agentId(k: number): string;
}

/** A running heartbeat phase: receives the reply or the loss of every heartbeat it tagged. */
export interface HeartbeatPhase {
  readonly tag: number;
  /** A reply to agent k's heartbeat of this phase arrived after `latencyMs`. */
  onReply(k: number, latencyMs: number, valid: boolean): void;
  /** Agent k's socket closed while its heartbeat of this phase awaited a reply. */
  onLost(k: number): void;
}
