/** The Redis presence data was written under: its data epoch and server run_id. */
export interface RedisIdentity {
  epoch: string;
  runId: string;
}

/** Why offline transitions are held. */
export type HoldReason =
  /** The epoch key is gone or different: the data was lost (restart without persistence, FLUSHALL). */
  | 'redis_data_lost'
  /** Another server process answers (restart, failover): recent writes may be missing. */
  | 'redis_restarted'
  /** This sweeper could not reach Redis: gateways may not have been able to write either. */
  | 'redis_unreachable'
  /** Redis differs from what the last leader acted under: it changed while no sweeper watched. */
  | 'redis_changed_unwatched';

/**
 * Decides when presence data can be trusted for offline decisions (pure, clock injected).
 *
 * After any sign that last-seen entries may be missing or stale, offline transitions are held for
 * `graceMs` from the moment the sign was seen: long enough for every gateway to re-announce the
 * connections it holds (on detecting the loss, and periodically) and for every live agent to
 * heartbeat at least once. The default grace of one offline timeout gives exactly that: an agent
 * silent for a whole timeout after the loss is as silent as any timed-out agent. After the window
 * only agents nobody re-announced expire.
 *
 * `observe` is called every tick (leader or not) with what Redis answers, or null when it could not
 * be reached; `compareBaseline` when leadership starts, with what the previous leader stored.
 */
export class PresenceGuard {
  private last: RedisIdentity | null = null;
  private unreachable = false;
  private holdUntilMs = Number.NEGATIVE_INFINITY;
  private reason: HoldReason | null = null;

  constructor(private readonly graceMs: number) {}

  /** Records one observation; returns the reason when it starts (or extends) a hold. */
  observe(current: RedisIdentity | null, nowMs: number): HoldReason | null {
    if (current === null) {
      this.unreachable = true;
      return null;
    }
    let reason: HoldReason | null = null;
    if (this.last !== null && this.last.epoch !== current.epoch) reason = 'redis_data_lost';
    else if (this.last !== null && this.last.runId !== current.runId) reason = 'redis_restarted';
    else if (this.unreachable) reason = 'redis_unreachable';
    this.unreachable = false;
    this.last = current;
    if (reason !== null) this.hold(reason, nowMs);
    return reason;
  }

  /**
   * Compares the identity the previous leader stored with the last observation; a difference starts
   * a hold. A missing baseline (first ever run) does not.
   */
  compareBaseline(stored: RedisIdentity | null, nowMs: number): HoldReason | null {
    if (stored === null || this.last === null) return null;
    if (stored.epoch === this.last.epoch && stored.runId === this.last.runId) return null;
    this.hold('redis_changed_unwatched', nowMs);
    return 'redis_changed_unwatched';
  }

  /** The last observed identity (what a leader stores as its baseline). */
  get current(): RedisIdentity | null {
    return this.last;
  }

  offlineAllowed(nowMs: number): boolean {
    return nowMs >= this.holdUntilMs;
  }

  /** The reason of the current or last hold, and when it ends. */
  get holdState(): { reason: HoldReason | null; untilMs: number } {
    return { reason: this.reason, untilMs: this.holdUntilMs };
  }

  private hold(reason: HoldReason, nowMs: number): void {
    this.holdUntilMs = Math.max(this.holdUntilMs, nowMs + this.graceMs);
    this.reason = reason;
  }
}
