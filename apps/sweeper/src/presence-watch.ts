import { type Db, readPresenceBaseline, writePresenceBaseline } from '@opamp-fleet/db';
import type { RedisEpoch } from '@opamp-fleet/presence';
import type { Logger } from '@opamp-fleet/telemetry';
import { throttle } from '@opamp-fleet/telemetry';
import type { LastSeenStore } from './last-seen-store.js';
import type { SweeperMetrics } from './metrics.js';
import { type HoldReason, PresenceGuard, type RedisIdentity } from './presence-guard.js';

export interface PresenceWatchOptions {
  epoch: RedisEpoch;
  store: LastSeenStore;
  db: Db;
  /** Row of the stored baseline (the lease name). */
  name: string;
  graceMs: number;
  metrics: SweeperMetrics;
  log: Logger;
}

/**
 * Watches the Redis presence data for loss on every tick and keeps, in Postgres, the identity the
 * leader acts under, so that a new leader notices a change that happened while nobody watched.
 * Decisions are {@link PresenceGuard}'s. Calls must not overlap.
 */
export class PresenceWatch {
  private readonly guard: PresenceGuard;
  private persisted: RedisIdentity | null = null;
  private baselineRead = false;
  private readonly logUnreachable: (err: unknown) => void;
  /** Times presence data came into doubt (a Redis data loss or an outage): each starts a hold. */
  doubts = 0;

  constructor(private readonly o: PresenceWatchOptions) {
    this.guard = new PresenceGuard(o.graceMs);
    this.logUnreachable = throttle(10_000, (suppressed: number, err: unknown) =>
      o.log.warn({ err, suppressed }, 'redis unreachable: offline transitions paused'),
    );
  }

  /**
   * Reads the Redis identity and, unless `nowMs` is given, Redis's clock. Both are null when Redis
   * cannot be reached (which itself starts a hold once it answers again).
   */
  async observe(nowMs?: number): Promise<{ identity: RedisIdentity | null; now: number | null }> {
    let identity: RedisIdentity | null = null;
    let now: number | null = nowMs ?? null;
    try {
      // both reads at once: one round trip of waiting per tick, not two
      const [check, time] = await Promise.all([
        this.o.epoch.check(),
        nowMs === undefined ? this.o.store.time() : nowMs,
      ]);
      identity = { epoch: check.epoch, runId: check.runId };
      now = time;
    } catch (err) {
      identity = null;
      now = nowMs ?? null;
      this.o.metrics.tickErrors.inc({ stage: 'redis' });
      this.logUnreachable(err);
    }
    this.noteHold(this.guard.observe(identity, now ?? 0));
    return { identity, now };
  }

  /** Leadership (re)started: the stored baseline is read again by the next `sync`. */
  leadershipStarted(): void {
    this.baselineRead = false;
  }

  /** As leader: compares with the stored baseline once per leadership, stores the identity when it changed. */
  async sync(identity: RedisIdentity, nowMs: number): Promise<void> {
    if (!this.baselineRead) {
      const row = await readPresenceBaseline(this.o.db, this.o.name);
      this.persisted = row && { epoch: row.redisEpoch, runId: row.redisRunId };
      this.baselineRead = true;
      this.noteHold(this.guard.compareBaseline(this.persisted, nowMs));
    }
    if (
      this.persisted === null ||
      this.persisted.epoch !== identity.epoch ||
      this.persisted.runId !== identity.runId
    ) {
      await writePresenceBaseline(this.o.db, this.o.name, {
        redisEpoch: identity.epoch,
        redisRunId: identity.runId,
      });
      this.persisted = identity;
    }
  }

  offlineAllowed(nowMs: number): boolean {
    const allowed = this.guard.offlineAllowed(nowMs);
    this.o.metrics.offlineHeld.set(allowed ? 0 : 1);
    return allowed;
  }

  private noteHold(reason: HoldReason | null): void {
    if (reason === null) return;
    this.doubts++;
    this.o.metrics.holds.inc({ reason });
    this.o.metrics.offlineHeld.set(1);
    this.o.log.warn(
      { reason, graceSeconds: this.o.graceMs / 1000 },
      'presence data in doubt: offline transitions held',
    );
  }
}
