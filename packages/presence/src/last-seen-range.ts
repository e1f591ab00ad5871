import type { Redis } from 'ioredis';
import { luaScript } from './lua-script.js';

/** An entry of the last-seen sorted set: an agent id and its last-seen score (ms, Redis clock). */
export interface ScoredMember {
  member: string;
  score: number;
}

/** The reply of a ZRANGE ... WITHSCORES (member, score, member, score, ...) as entries. */
export function scoredMembers(flat: readonly string[]): ScoredMember[] {
  const out: ScoredMember[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: flat[i]!, score: Number(flat[i + 1]) });
  return out;
}

/** A range of the last-seen set: scores below `belowMs`, at most `atMostMs`, at least `atLeastMs`. */
export interface LastSeenRange {
  belowMs: number;
  atMostMs?: number;
  atLeastMs?: number;
  /** Entries to read, at least 1; more when the lowest score read is shared (every tie is read). */
  limit: number;
}

/** Entries of the last-seen set, highest score first. */
export interface LastSeenWindow {
  ids: string[];
  seenMs: number[];
  /**
   * The lowest score read when the range holds more entries below it, else null (the window is
   * the whole range). Every entry scored at the floor is in the window.
   */
  floorMs: number | null;
}

/**
 * Reads `range.limit` entries of the last-seen set `key` from the top of the range (ZRANGE BYSCORE
 * REV); when that fills the limit, also every entry sharing the lowest score read (Redis orders
 * ties by member, a listing may order them otherwise), so that the window ends between two scores.
 */
export async function readLastSeenWindow(
  redis: Redis,
  key: string,
  range: LastSeenRange,
): Promise<LastSeenWindow> {
  const { belowMs, atMostMs, atLeastMs } = range;
  const max = atMostMs !== undefined && atMostMs < belowMs ? String(atMostMs) : `(${belowMs}`;
  const min = atLeastMs === undefined ? '-inf' : String(atLeastMs);
  const limit = Math.max(1, Math.floor(range.limit));
  let top = scoredMembers(
    await redis.zrange(key, max, min, 'BYSCORE', 'REV', 'LIMIT', 0, limit, 'WITHSCORES'),
  );
  let floorMs: number | null = null;
  if (top.length === limit) {
    const floor = top.at(-1)!.score;
    const ties = scoredMembers(
      await redis.zrange(key, String(floor), String(floor), 'BYSCORE', 'WITHSCORES'),
    );
    top = top.filter((e) => e.score !== floor).concat(ties);
    floorMs = floor;
  }
  return { ids: top.map((e) => e.member), seenMs: top.map((e) => e.score), floorMs };
}

/**
 * Up to `limit` entries of the late last-seen set `key` (PresenceKeys.lateSeen), oldest first: the
 * touches that landed late, for the heartbeat flush to write whatever its watermark.
 */
export async function readLateSeen(redis: Redis, key: string, limit: number): Promise<ScoredMember[]> {
  const last = Math.max(1, Math.floor(limit)) - 1;
  return scoredMembers(await redis.zrange(key, '0', String(last), 'WITHSCORES'));
}

/**
 * Removes `written` entries from the late set `key`, each only while its score is not above the one
 * written (a newer late touch stays). Returns how many it removed.
 */
export async function removeLateSeen(
  redis: Redis,
  key: string,
  written: readonly ScoredMember[],
): Promise<number> {
  if (written.length === 0) return 0;
  const args: (string | number)[] = [];
  for (const e of written) args.push(e.member, e.score);
  return Number(await luaScript('late-done').run(redis, [key], args));
}
