import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { presenceKeys } from '@opamp-fleet/presence';
import type { Redis } from 'ioredis';
import type { LastSeenEntry } from './state-machine.js';

/**
 * The sweeper's view of the gateways' last-seen sorted set (member = agent id, score = last-seen ms
 * on the Redis clock), for two-phase expiry.
 *
 * Contract: `findExpired` reads without changing anything (phase 1); `scores` re-reads (phase 2);
 * `removeIfUnchanged` removes, in one atomic script, only entries whose score is still the one given,
 * so a heartbeat written after the re-read is never lost. `time` is Redis's own clock, the one the
 * scores are written on. Every call is a single round trip, sent before the call returns (calls made
 * one after the other reach Redis in that order), and may reject when Redis fails.
 */
export interface LastSeenStore {
  time(): Promise<number>;
  /** Up to `limit` entries at or below the cutoff, lowest score first, after the first `skip` of them. */
  findExpired(cutoffMs: number, limit: number, skip?: number): Promise<LastSeenEntry[]>;
  scores(agentIds: readonly string[]): Promise<Map<string, number | null>>;
  removeIfUnchanged(entries: readonly LastSeenEntry[]): Promise<number>;
}

const SCRIPT = readFileSync(new URL('../lua/remove-if-unchanged.lua', import.meta.url), 'utf8');
const SCRIPT_SHA1 = createHash('sha1').update(SCRIPT).digest('hex');

export function createLastSeenStore(redis: Redis, keyPrefix?: string): LastSeenStore {
  const key = presenceKeys(keyPrefix).lastSeen;
  return {
    async time() {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    },

    async findExpired(cutoffMs, limit, skip = 0) {
      const reply = (await redis.zrange(
        key,
        '-inf',
        String(cutoffMs),
        'BYSCORE',
        'LIMIT',
        skip,
        limit,
        'WITHSCORES',
      )) as unknown[];
      return parseWithScores(reply);
    },

    async scores(agentIds) {
      const out = new Map<string, number | null>();
      if (agentIds.length === 0) return out;
      const reply = (await redis.zmscore(key, ...agentIds)) as unknown[];
      agentIds.forEach((id, i) => {
        const s = reply[i];
        out.set(id, s === null || s === undefined ? null : Number(s));
      });
      return out;
    },

    async removeIfUnchanged(entries) {
      if (entries.length === 0) return 0;
      const args: string[] = [];
      for (const e of entries) args.push(e.agentId, String(e.score));
      let removed: unknown;
      try {
        removed = await redis.evalsha(SCRIPT_SHA1, 1, key, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        removed = await redis.eval(SCRIPT, 1, key, ...args);
      }
      return Number(removed);
    },
  };
}

/** WITHSCORES replies: flat [member, score, ...] (RESP2) or [[member, score], ...] (RESP3). */
function parseWithScores(reply: readonly unknown[]): LastSeenEntry[] {
  const out: LastSeenEntry[] = [];
  if (reply.length > 0 && Array.isArray(reply[0])) {
    for (const pair of reply as [unknown, unknown][]) {
      out.push({ agentId: String(pair[0]), score: Number(pair[1]) });
    }
    return out;
  }
  for (let i = 0; i + 1 < reply.length; i += 2) {
    out.push({ agentId: String(reply[i]), score: Number(reply[i + 1]) });
  }
  return out;
}
