import { randomUUID } from 'node:crypto';
import { countAgentsByStatus, type Db } from '@opamp-fleet/db';
import { createPostgresLease, FencedError, type Lease, type MonotonicClock } from '@opamp-fleet/leader';
import { createRedisEpoch, type RedisEpoch } from '@opamp-fleet/presence';
import type { Logger, Registry } from '@opamp-fleet/telemetry';
import { throttle } from '@opamp-fleet/telemetry';
import type { Redis } from 'ioredis';
import type { CloseSummary, StaleConnectionCloser, TimedOutConnection } from './connection-closer.js';
import { createFleetGauges, type FleetGauges } from './fleet-gauges.js';
import { createLastSeenStore, type LastSeenStore } from './last-seen-store.js';
import { createSweeperMetrics, type SweeperMetrics } from './metrics.js';
import { PresenceWatch } from './presence-watch.js';
import { errorCutoff, offlineCutoff } from './state-machine.js';
import { errorBatch, expireAll, findLostCloses, reconcileAbsent, type StepContext } from './sweep-steps.js';

/**
 * How long after an agent was taken offline its heartbeats may still arrive (the close command in
 * flight, the last heartbeats being flushed) before its connection counts as not ended.
 */
export const LOST_CLOSE_GRACE_MS = 5000;
/** How often the leader looks for agents offline in Postgres that still heartbeat (Redis clock, ms). */
export const LOST_CLOSE_CHECK_INTERVAL_MS = 5000;
/**
 * Reconciliation (online in Postgres, absent from Redis) reads Postgres by a scan (no index covers
 * last-seen times), so it runs at most this often, and at once again while its batches are full.
 */
export const RECONCILE_INTERVAL_MS = 5000;

/**
 * Longest the loop defers closing the WebSockets of agents it took offline while it is still taking
 * more offline (a burst of expiries), so the transitions are not slowed by the closes. Plain-HTTP
 * sessions are ended after every tick regardless (see loopTick).
 */
export const CLOSE_DEFER_MAX_MS = 2000;

/** The part of SweeperConfig the loop uses. */
export interface SweeperOptions {
  readonly sweeperId: string;
  readonly redisKeyPrefix: string;
  readonly offlineTimeoutSeconds: number;
  readonly errorAfterSeconds: number;
  readonly sweepIntervalMs: number;
  readonly sweepBatchSize: number;
  readonly sweepTickBudgetMs: number;
  readonly leaseTtlMs: number;
  readonly redisLossGraceSeconds: number;
  /** How often the leader re-reads the agent counts of `opamp_agents`. Default 5000. */
  readonly fleetCountIntervalMs?: number;
}

export interface SweeperDeps {
  /** A fail-fast presence client (`createPresenceRedis`). */
  redis: Redis;
  db: Db;
  registry: Registry;
  logger: Logger;
  /** Ends the connections (sockets, HTTP sessions) of timed-out agents; none when omitted. */
  closer?: StaleConnectionCloser;
  /** Default: a Postgres lease `sweeper:<key prefix>` held as `<sweeperId>:<random>`. */
  lease?: Lease;
  /** Default: the presence epoch sentinel on `redis`. */
  epoch?: RedisEpoch;
  /** Default: the last-seen set on `redis`. */
  store?: LastSeenStore;
  /** Measures the tick budget. Default `performance`. */
  monotonic?: MonotonicClock;
}

/** What one tick did. */
export interface TickReport {
  /** This replica held the lease during the tick. */
  leader: boolean;
  /** Offline transitions were held (presence data in doubt, see PresenceGuard). */
  offlineHeld: boolean;
  /** Agents taken offline (heartbeat_timeout) and moved to error (offline_too_long). */
  offline: number;
  errored: number;
  /** A write was refused by the fence: leadership was lost during the tick. */
  fenced: boolean;
  /** False when the budget ran out with work left, or a step failed. */
  complete: boolean;
}

/**
 * The leader-elected liveness loop.
 *
 * Contract: `runOnce(nowMs?)` runs one tick and never rejects (failures are logged, counted and
 * end the tick): it reads the Redis identity (data-loss detection), renews or acquires the lease,
 * and as leader re-reads the fleet counts when due (`opamp_agents`), expires agents in batches
 * (each batch read while the previous one is written), reconciles agents missing from presence
 * (every RECONCILE_INTERVAL_MS, and at once after presence data came into doubt), and moves
 * long-offline agents to error, until done or the tick budget is spent. With a closer, it then
 * ends the connections of the agents it took offline, and every
 * LOST_CLOSE_CHECK_INTERVAL_MS those of agents still heartbeating although taken offline (a lost
 * close command); it resolves once they are ended. All decisions use `nowMs`, by default Redis's
 * clock (the one last-seen scores are written on). Ticks must not overlap.
 * `start()` runs ticks one after the other: sweepIntervalMs after a tick that changed no agent, at
 * once after one that did (see {@link nextTickDelayMs}). The connections of the agents the loop
 * took offline are ended while the next ticks run: plain-HTTP sessions after each tick, WebSockets
 * once a tick took none offline (it caught up) or at the latest CLOSE_DEFER_MAX_MS after they were
 * queued. `stop()` stops the ticks, waits for
 * the tick in flight, ends what is queued and releases the lease; it is idempotent.
 */
export interface Sweeper {
  runOnce(nowMs?: number): Promise<TickReport>;
  start(): void;
  stop(): Promise<void>;
  readonly isLeader: boolean;
  /** False when no tick finished for max(10 s, 5 x (interval + budget)): the loop is stuck. */
  readonly healthy: boolean;
  readonly metrics: SweeperMetrics;
}

/**
 * Pause before the tick after `report`: none after a tick that changed agents (more may have
 * expired while it ran, or its budget ran out), else the sweep interval.
 */
export function nextTickDelayMs(report: TickReport, sweepIntervalMs: number): number {
  return report.offline + report.errored > 0 ? 0 : sweepIntervalMs;
}

export function createSweeper(options: SweeperOptions, deps: SweeperDeps): Sweeper {
  return new LeaderElectedSweeper(options, deps);
}

class LeaderElectedSweeper implements Sweeper {
  readonly metrics: SweeperMetrics;
  private readonly log: Logger;
  private readonly lease: Lease;
  private readonly store: LastSeenStore;
  private readonly watch: PresenceWatch;
  private readonly monotonic: MonotonicClock;
  private readonly fleet: FleetGauges;
  private leading = false;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<TickReport> | null = null;
  /** Connections of agents taken offline (or found still heartbeating) not yet handed to the closer. */
  private toClose: TimedOutConnection[] = [];
  /** Monotonic time the oldest of `toClose` was queued. */
  private toCloseSince = 0;
  /** The close runs handed out so far, one after the other (never rejects). */
  private closing: Promise<void> = Promise.resolve();
  private started = false;
  private stopping: Promise<void> | null = null;
  private lastTickEnd: number;
  /** Redis-clock time of the next look for lost closes. */
  private nextLostCloseCheck = 0;
  /** Redis-clock time reconciliation is next due. */
  private nextReconcile = 0;
  /** PresenceWatch.doubts when reconciliation last ran: a new doubt makes it due at once. */
  private reconciledAtDoubts = 0;
  private readonly logFailure: (what: string, stage: string, err: unknown) => void;

  constructor(
    private readonly o: SweeperOptions,
    private readonly deps: SweeperDeps,
  ) {
    this.metrics = createSweeperMetrics(deps.registry);
    this.log = deps.logger.child({ component: 'sweeper' });
    this.lease =
      deps.lease ??
      createPostgresLease({
        db: deps.db,
        name: `sweeper:${o.redisKeyPrefix}`,
        holder: `${o.sweeperId}:${randomUUID().slice(0, 8)}`,
        ttlMs: o.leaseTtlMs,
      });
    this.store = deps.store ?? createLastSeenStore(deps.redis, o.redisKeyPrefix);
    this.watch = new PresenceWatch({
      epoch: deps.epoch ?? createRedisEpoch({ redis: deps.redis, keyPrefix: o.redisKeyPrefix }),
      store: this.store,
      db: deps.db,
      name: this.lease.name,
      graceMs: o.redisLossGraceSeconds * 1000,
      metrics: this.metrics,
      log: this.log,
    });
    this.monotonic = deps.monotonic ?? performance;
    this.fleet = createFleetGauges({
      registry: deps.registry,
      count: () => countAgentsByStatus(deps.db),
      isLeader: () => this.isLeader,
      refreshIntervalMs: o.fleetCountIntervalMs ?? 5000,
      monotonic: this.monotonic,
    });
    this.lastTickEnd = this.monotonic.now();
    this.logFailure = throttle(10_000, (suppressed: number, what: string, stage: string, err: unknown) =>
      this.log.warn({ err, stage, suppressed }, what),
    );
  }

  get isLeader(): boolean {
    return this.leading && this.lease.isLeader;
  }

  get healthy(): boolean {
    const staleAfter = Math.max(10_000, 5 * (this.o.sweepIntervalMs + this.o.sweepTickBudgetMs));
    return this.monotonic.now() - this.lastTickEnd < staleAfter;
  }

  async runOnce(nowMs?: number): Promise<TickReport> {
    const report = await this.runTick(nowMs);
    this.startClosing();
    await this.closing;
    return report;
  }

  /** One tick; the connections of the agents it took offline are still being ended when it resolves. */
  private async runTick(nowMs?: number): Promise<TickReport> {
    try {
      return await this.tick(nowMs);
    } finally {
      this.lastTickEnd = this.monotonic.now();
    }
  }

  /**
   * A tick of the loop. Offline transitions come first. The plain-HTTP sessions of the agents a tick
   * took offline are ended once it is over, while the next tick runs: not later, since an agent that
   * polls between its transition and the end of its session keeps the old session until then. Their
   * WebSockets are closed once a tick took none offline (caught up), or once the oldest queued is
   * CLOSE_DEFER_MAX_MS old: closing thousands of sockets would slow a burst's transitions down.
   */
  private async loopTick(): Promise<TickReport> {
    const report = await this.runTick();
    const caughtUp = report.offline === 0 || this.monotonic.now() - this.toCloseSince >= CLOSE_DEFER_MAX_MS;
    this.startClosing(caughtUp ? 'all' : 'sessions');
    return report;
  }

  /**
   * Hands the queued connections (or only the plain-HTTP sessions among them) to the closer, after
   * the close runs before (not awaited).
   */
  private startClosing(what: 'all' | 'sessions' = 'all'): void {
    let batch = this.toClose;
    if (what === 'all') this.toClose = [];
    else {
      batch = batch.filter((c) => c.transport === 'http');
      if (batch.length > 0) this.toClose = this.toClose.filter((c) => c.transport !== 'http');
    }
    if (batch.length === 0) return;
    this.closing = this.closing.then(() => this.closeSockets(batch));
  }

  private async tick(nowMs?: number): Promise<TickReport> {
    const report: TickReport = {
      leader: false,
      offlineHeld: false,
      offline: 0,
      errored: 0,
      fenced: false,
      complete: true,
    };
    const startedAt = this.monotonic.now();
    // the Redis reads and the lease renewal (Postgres) are independent: at once
    const [{ identity, now }, leader] = await Promise.all([this.watch.observe(nowMs), this.renewLease()]);
    report.leader = leader;
    if (report.leader) await this.refreshFleetCounts();
    if (!report.leader || now === null) {
      report.complete = now !== null;
      return report;
    }
    const endTimer = this.metrics.tickSeconds.startTimer();
    const deadline = startedAt + this.o.sweepTickBudgetMs;
    const token = this.lease.token!;
    let stage = 'baseline';
    // connections to end: of agents taken offline (once committed) and found still heartbeating
    const toClose: TimedOutConnection[] = [];
    try {
      if (identity !== null) await this.watch.sync(identity, now);
      const ctx = this.stepContext(token, now);
      report.offlineHeld = !this.watch.offlineAllowed(now) || identity === null;
      if (!report.offlineHeld) {
        const cutoff = offlineCutoff(now, this.o.offlineTimeoutSeconds);
        stage = 'expiry';
        report.complete = await expireAll(
          ctx,
          cutoff,
          () => this.monotonic.now() < deadline,
          (r) => {
            report.offline += r.offline.length;
            toClose.push(...r.offline);
          },
        );
        const due = now >= this.nextReconcile || this.watch.doubts !== this.reconciledAtDoubts;
        if (report.complete && due && this.monotonic.now() < deadline) {
          stage = 'reconcile';
          const doubts = this.watch.doubts;
          const r = await reconcileAbsent(ctx, cutoff);
          this.reconciledAtDoubts = doubts;
          this.nextReconcile = r.found >= ctx.batchSize ? now : now + RECONCILE_INTERVAL_MS;
          report.offline += r.offline.length;
          toClose.push(...r.offline);
        }
      }
      stage = 'error_sweep';
      const errorBefore = errorCutoff(now, this.o.errorAfterSeconds);
      const errorsDone = await this.repeat(deadline, async () => {
        const n = await errorBatch(ctx, errorBefore);
        report.errored += n;
        return n;
      });
      report.complete &&= errorsDone;
      if (this.deps.closer !== undefined && now >= this.nextLostCloseCheck) {
        stage = 'lost_closes';
        this.nextLostCloseCheck = now + LOST_CLOSE_CHECK_INTERVAL_MS;
        toClose.push(...(await findLostCloses(ctx, LOST_CLOSE_GRACE_MS)));
      }
    } catch (err) {
      report.complete = false;
      if (err instanceof FencedError) {
        report.fenced = true;
        this.metrics.fencedWrites.inc();
        this.lease.lost();
        this.setLeading(false);
        this.log.warn({ token }, 'lease lost during the tick: write refused by the fence');
      } else {
        this.metrics.tickErrors.inc({ stage });
        this.logFailure('sweep tick failed', stage, err);
      }
    } finally {
      // also what was committed before a failure
      if (toClose.length > 0 && this.toClose.length === 0) this.toCloseSince = this.monotonic.now();
      this.toClose.push(...toClose);
      endTimer();
    }
    if (report.offline + report.errored > 0) {
      this.log.info({ offline: report.offline, errored: report.errored }, 'transitions committed');
    }
    return report;
  }

  start(): void {
    if (this.started || this.stopping !== null) return;
    this.started = true;
    this.schedule(0);
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
    this.startClosing();
    await this.closing;
    if (this.lease.token !== null) {
      await this.lease.release().catch((err: unknown) => this.log.warn({ err }, 'lease release failed'));
    }
    this.setLeading(false);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.current = this.loopTick();
      void this.current.then((report) => {
        this.current = null;
        if (this.stopping === null) this.schedule(nextTickDelayMs(report, this.o.sweepIntervalMs));
      });
    }, delayMs);
    this.timer.unref();
  }

  private async renewLease(): Promise<boolean> {
    let held = false;
    try {
      held = await this.lease.tryAcquire();
    } catch (err) {
      this.metrics.tickErrors.inc({ stage: 'lease' });
      this.logFailure('lease renewal failed', 'lease', err);
    }
    this.setLeading(held);
    return held;
  }

  private setLeading(held: boolean): void {
    if (held !== this.leading) {
      this.metrics.leadershipChanges.inc({ event: held ? 'acquired' : 'lost' });
      this.log.info({ holder: this.lease.holder, token: this.lease.token }, held ? 'leader' : 'follower');
      if (held) this.watch.leadershipStarted();
    }
    if (!held) this.fleet.clear();
    this.leading = held;
    this.metrics.isLeader.set(held ? 1 : 0);
  }

  /** Re-reads the fleet counts when due (Postgres only: also while Redis is unreachable). */
  private async refreshFleetCounts(): Promise<void> {
    try {
      await this.fleet.refreshIfDue();
    } catch (err) {
      this.metrics.tickErrors.inc({ stage: 'fleet_counts' });
      this.logFailure('reading the fleet counts failed', 'fleet_counts', err);
    }
  }

  /** Runs `batch` until it finds fewer than a batch or the deadline passed; true when done. */
  private async repeat(deadline: number, batch: () => Promise<number>): Promise<boolean> {
    for (;;) {
      const found = await batch();
      if (found < this.o.sweepBatchSize) return true;
      if (this.monotonic.now() >= deadline) return false;
    }
  }

  /** Ends the connections of `offline` through the closer; never rejects. */
  private async closeSockets(offline: readonly TimedOutConnection[]): Promise<void> {
    if (this.deps.closer === undefined || offline.length === 0) return;
    let s: CloseSummary;
    try {
      s = await this.deps.closer.close(offline);
    } catch (err) {
      // the closer's contract is not to reject; should one, the tick goes on
      this.metrics.closeCommands.inc({ result: 'failed' }, offline.length);
      this.logFailure('closing connections failed', 'close', err);
      return;
    }
    const counts = {
      sent: s.sent,
      session_ended: s.sessionsEnded,
      skipped: s.skipped,
      orphaned: s.orphaned,
      failed: s.failed,
    };
    for (const [result, n] of Object.entries(counts)) {
      if (n > 0) this.metrics.closeCommands.inc({ result }, n);
    }
  }

  private stepContext(token: number, nowMs: number): StepContext {
    return {
      db: this.deps.db,
      store: this.store,
      lease: this.lease,
      token,
      metrics: this.metrics,
      nowMs,
      batchSize: this.o.sweepBatchSize,
      offlineTimeoutSeconds: this.o.offlineTimeoutSeconds,
    };
  }
}
