import {
  type Db,
  findSeenWhileOffline,
  findStaleOnline,
  type MarkedOffline,
  markError,
  markOffline,
  type OfflineCandidate,
  readOnlineAgents,
} from '@opamp-fleet/db';
import { FencedError, type Lease } from '@opamp-fleet/leader';
import type { LastSeenStore } from './last-seen-store.js';
import type { SweeperMetrics } from './metrics.js';
import {
  confirmExpired,
  detectionLagSeconds,
  HEARTBEAT_TIMEOUT,
  type LastSeenEntry,
  OFFLINE_TOO_LONG,
  offlineCutoff,
} from './state-machine.js';

/** What one step works with: the leader's token and the tick's clock reading. */
export interface StepContext {
  db: Db;
  store: LastSeenStore;
  lease: Lease;
  token: number;
  metrics: SweeperMetrics;
  /** The tick's time (ms, Redis clock): transitions are recorded at it. */
  nowMs: number;
  batchSize: number;
  offlineTimeoutSeconds: number;
}

export interface StepResult {
  /** Entries or rows the step looked at; fewer than the batch size means none are left. */
  found: number;
  /** Agents the step took offline (for closing their sockets). */
  offline: MarkedOffline[];
}

/** A batch of two-phase expiry after its reads (steps 1-3 of {@link readExpiry}), before any write. */
export interface ExpiryBatch {
  /** Entries the first read found; fewer than the batch size means none are left after them. */
  found: number;
  /** Entries still expired at the re-check, with their re-read score (removed in step 5). */
  confirmed: LastSeenEntry[];
  /** The confirmed agents online in Postgres, with the connection epoch read in step 2. */
  candidates: OfflineCandidate[];
}

/**
 * One batch of two-phase expiry is read by `readExpiry` (steps 1-3) and written by `commitExpiry`
 * (steps 4-5):
 * 1. find up to batchSize entries of the last-seen set at or below the cutoff;
 * 2. read those agents' rows (online ones, with their connection epoch) from Postgres;
 * 3. re-read their scores: an entry refreshed since step 1 is dropped (a heartbeat always wins);
 * 4. in ONE fenced statement, take offline the online agents still expired, compare-and-set on
 *    status, connection epoch (a reconnect recorded after step 2 wins) and last_seen_at;
 * 5. remove the confirmed entries whose score is still the re-read one.
 * Step 2 comes before step 3 so that a reconnect is seen either by the epoch compare (recorded
 * after step 2) or by the re-read (its first touch written before its open event).
 *
 * `skip` entries of the set are passed over in step 1: the next batch can be read while the
 * previous one, whose entries are still in the set, is written. Step 1 is sent to Redis before this
 * function returns its promise, so it is read ahead of any removal the caller issues afterwards on
 * the same connection.
 */
export async function readExpiry(ctx: StepContext, cutoffMs: number, skip = 0): Promise<ExpiryBatch> {
  const found = await ctx.store.findExpired(cutoffMs, ctx.batchSize, skip);
  if (found.length === 0) return { found: 0, confirmed: [], candidates: [] };
  const online = new Map(
    (
      await readOnlineAgents(
        ctx.db,
        found.map((e) => e.agentId),
      )
    ).map((a) => [a.agentId, a]),
  );
  const check = confirmExpired(found, await ctx.store.scores(found.map((e) => e.agentId)), cutoffMs);
  ctx.metrics.expiryChecks.inc({ outcome: 'confirmed' }, check.confirmed.length);
  ctx.metrics.expiryChecks.inc({ outcome: 'refreshed' }, check.refreshed.length);
  ctx.metrics.expiryChecks.inc({ outcome: 'vanished' }, check.vanished.length);
  const candidates: OfflineCandidate[] = [];
  for (const e of check.confirmed) {
    const agent = online.get(e.agentId);
    if (agent === undefined) continue; // not online in Postgres: only the stale entry goes
    candidates.push({ agentId: e.agentId, lastSeenMs: e.score, connectionEpoch: agent.connectionEpoch });
  }
  return { found: found.length, confirmed: check.confirmed, candidates };
}

/**
 * Steps 4-5 of {@link readExpiry}: the fenced compare-and-set, then the compare-and-remove.
 * Throws {@link FencedError} (nothing written, nothing removed) when the lease moved on.
 */
export async function commitExpiry(ctx: StepContext, batch: ExpiryBatch): Promise<StepResult> {
  if (batch.found === 0) return { found: 0, offline: [] };
  const offline = await takeOffline(ctx, batch.candidates);
  const seenAt = new Map(batch.candidates.map((c) => [c.agentId, c.lastSeenMs]));
  for (const a of offline) {
    const seen = seenAt.get(a.agentId);
    if (seen != null) {
      ctx.metrics.detectionLagSeconds.observe(
        detectionLagSeconds(seen, ctx.nowMs, ctx.offlineTimeoutSeconds),
      );
    }
  }
  await ctx.store.removeIfUnchanged(batch.confirmed);
  return { found: batch.found, offline };
}

/**
 * Expires batch after batch (see {@link readExpiry}) until a batch finds fewer than batchSize
 * entries (returns true) or `more()` says no before a full batch is written (returns false: the
 * rest waits for the next tick). While a batch is written (Postgres, then its removal), the next
 * one is read (Redis and Postgres reads, no lock) past it; each batch is still read, re-checked,
 * compared-and-set and removed in that order, so an agent in two batches is taken offline once
 * (the second compare-and-set finds it offline). `onBatch` gets every batch's result as it commits.
 * A failure (e.g. {@link FencedError}) ends the loop after the read in flight settled.
 */
export async function expireAll(
  ctx: StepContext,
  cutoffMs: number,
  more: () => boolean,
  onBatch: (result: StepResult) => void,
): Promise<boolean> {
  let next: Promise<ExpiryBatch> | null = readExpiry(ctx, cutoffMs);
  for (;;) {
    const batch: ExpiryBatch = await next;
    next = null;
    const full = batch.found >= ctx.batchSize;
    // read ahead before this batch's removal is sent: the entries after this batch's
    if (full && more()) {
      next = readExpiry(ctx, cutoffMs, batch.found);
      next.catch(() => undefined); // a failure surfaces when it is awaited, not as an unhandled rejection
    }
    let result: StepResult;
    try {
      result = await commitExpiry(ctx, batch);
    } catch (err) {
      await next?.catch(() => undefined);
      throw err;
    }
    onBatch(result);
    if (!full) return true;
    if (next === null) return false;
  }
}

/**
 * One batch of reconciliation: online agents that Postgres last saw before the cutoff and that have
 * NO last-seen entry at all (lost with Redis data and re-announced by nobody, or removed after a
 * failed compare-and-set) are taken offline. Agents with an entry are left to {@link expireAll}.
 */
export async function reconcileAbsent(ctx: StepContext, cutoffMs: number): Promise<StepResult> {
  const stale = await findStaleOnline(ctx.db, { beforeMs: cutoffMs, limit: ctx.batchSize });
  if (stale.length === 0) return { found: 0, offline: [] };
  const scores = await ctx.store.scores(stale.map((a) => a.agentId));
  const absent = stale.filter((a) => (scores.get(a.agentId) ?? null) === null);
  const offline = await takeOffline(
    ctx,
    absent.map((a) => ({ agentId: a.agentId, lastSeenMs: a.lastSeenMs, connectionEpoch: a.connectionEpoch })),
  );
  return { found: stale.length, offline };
}

/** One batch of offline -> error for agents offline since `cutoffMs` or earlier; returns how many. */
export async function errorBatch(ctx: StepContext, cutoffMs: number): Promise<number> {
  const result = await markError(ctx.db, {
    reason: OFFLINE_TOO_LONG,
    atMs: ctx.nowMs,
    beforeMs: cutoffMs,
    limit: ctx.batchSize,
    guard: ctx.lease.fence(ctx.token),
  });
  if (!result.guardHeld) throw new FencedError(ctx.lease.name, ctx.token);
  ctx.metrics.transitions.inc({ reason: OFFLINE_TOO_LONG }, result.agentIds.length);
  return result.agentIds.length;
}

/**
 * Agents offline (or in error) in Postgres that are still heartbeating, seen within the offline
 * timeout and more than `graceMs` after they were taken offline: the end of their connection was
 * lost (a close command nobody received, a session end that failed). Returns their recorded
 * connections, for the caller to end again; an agent that reconnected since is online and not
 * found, and the closer leaves connections other than the recorded one alone.
 */
export async function findLostCloses(ctx: StepContext, graceMs: number): Promise<MarkedOffline[]> {
  const found = await findSeenWhileOffline(ctx.db, {
    seenAfterMs: offlineCutoff(ctx.nowMs, ctx.offlineTimeoutSeconds),
    graceMs,
    limit: ctx.batchSize,
  });
  ctx.metrics.seenWhileOffline.inc(found.length);
  return found;
}

async function takeOffline(ctx: StepContext, candidates: OfflineCandidate[]): Promise<MarkedOffline[]> {
  if (candidates.length === 0) return [];
  const result = await markOffline(ctx.db, candidates, {
    reason: HEARTBEAT_TIMEOUT,
    atMs: ctx.nowMs,
    guard: ctx.lease.fence(ctx.token),
  });
  if (!result.guardHeld) throw new FencedError(ctx.lease.name, ctx.token);
  ctx.metrics.transitions.inc({ reason: HEARTBEAT_TIMEOUT }, result.agents.length);
  ctx.metrics.heartbeatMissed.inc(result.agents.length);
  return result.agents;
}
