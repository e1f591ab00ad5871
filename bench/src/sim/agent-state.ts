/**
 * The protocol state of one simulated agent, free of I/O: which message to send next and how to
 * react to a ServerToAgent (ReportFullState, agent_identification.new_instance_uid, the offered
 * heartbeat interval, an UNAVAILABLE error with retry info), and how to read a WebSocket close.
 */
import {
  type AgentToServerInit,
  newInstanceUid,
  ServerErrorResponseType,
  type ServerToAgent,
  ServerToAgentFlags,
  uidBytesToId,
  uint64ToBitmask,
  uint64ToCounter,
} from '@opamp-fleet/opamp';
import { fullState, goodbye, heartbeat } from './messages.js';

/** What a reply changed, for the agent's counters and timers. */
export interface ReplyReaction {
  /** The reply is for another agent or carries an error: counted as an error. */
  error: string | null;
  fullStateRequested: boolean;
  uidChanged: boolean;
  /** The server's heartbeat interval (ms) when it offered one that differs from the current one. */
  newIntervalMs: number | null;
  /** UNAVAILABLE: reconnect after this many ms (0 when the server gave no retry info). */
  retryAfterMs: number | null;
}

export class AgentState {
  uid: Uint8Array = newInstanceUid();
  /** sequence_num of the next message. */
  private nextSeq = 0;
  private fullStatePending = true;
  readonly startedAtMs = Date.now();

  constructor(
    readonly slot: number,
    public intervalMs: number,
  ) {}

  get id(): string {
    return uidBytesToId(this.uid);
  }

  /** Whether the next message carries the full state. */
  get sendsFullState(): boolean {
    return this.fullStatePending;
  }

  /** The next status message: the full state when it is due, else a heartbeat. */
  nextMessage(): AgentToServerInit {
    const seq = this.nextSeq++;
    if (!this.fullStatePending) return heartbeat(this.uid, seq);
    this.fullStatePending = false;
    return fullState(this.uid, seq, this.slot, this.startedAtMs);
  }

  goodbye(): AgentToServerInit {
    return goodbye(this.uid, this.nextSeq++);
  }

  /** A message lost on the way: the server sees a gap in sequence_num. */
  skipSequenceNumber(): void {
    this.nextSeq++;
  }

  onReply(reply: ServerToAgent): ReplyReaction {
    const reaction: ReplyReaction = {
      error: null,
      fullStateRequested: false,
      uidChanged: false,
      newIntervalMs: null,
      retryAfterMs: null,
    };
    const error = reply.errorResponse;
    if (error != null) {
      if (error.type === ServerErrorResponseType.Unavailable) {
        const nanos = error.retryInfo?.retryAfterNanoseconds;
        reaction.retryAfterMs = nanos == null ? 0 : uint64ToCounter(nanos) / 1e6;
      }
      reaction.error = `error-response-${error.type ?? 0}`;
      return reaction;
    }
    if (reply.instanceUid.length > 0 && !Buffer.from(reply.instanceUid).equals(this.uid)) {
      reaction.error = 'reply-for-other-agent';
      return reaction;
    }
    const newUid = reply.agentIdentification?.newInstanceUid;
    if (newUid != null && newUid.length > 0) {
      this.uid = Uint8Array.from(newUid);
      reaction.uidChanged = true;
    }
    if ((uint64ToBitmask(reply.flags) & ServerToAgentFlags.ReportFullState) !== 0) {
      this.fullStatePending = true;
      reaction.fullStateRequested = true;
    }
    const offered = reply.connectionSettings?.opamp?.heartbeatIntervalSeconds;
    if (offered != null) {
      const ms = uint64ToCounter(offered) * 1000;
      if (ms > 0 && ms !== this.intervalMs) {
        this.intervalMs = ms;
        reaction.newIntervalMs = ms;
      }
    }
    return reaction;
  }
}

/** How the simulator reacts to a WebSocket close it did not ask for. */
export type CloseAction = 'reconnect' | 'stop';

/**
 * Every server close leads to a reconnect with backoff (draining 1001, reconnect requested 1012,
 * heartbeat_timeout 4001, errors, abnormal 1006), except 4000 "replaced": another connection holds
 * this agent's uid, and fighting it would only replace that one in turn.
 */
export function closeAction(code: number): CloseAction {
  return code === 4000 ? 'stop' : 'reconnect';
}

/** A short countable label for a close: `1001`, `4001`, `1006`, ... */
export function closeLabel(code: number, reason: string): string {
  return reason === '' ? String(code) : `${code} ${reason}`;
}
