import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { PresenceDataError } from './errors.js';
import { type PresenceKeys, presenceKeys } from './keys.js';
import { luaScript } from './lua-script.js';

export interface EpochCheck {
  /** The data epoch now stored in Redis. */
  epoch: string;
  /**
   * True when the epoch differs from the one this instance saw on its previous check: the key was
   * lost (restart without persistence, FLUSHALL, failover to a replica that missed it) and presence
   * data with it. The caller re-announces every connection it holds. Always false on the first check.
   */
  changed: boolean;
  /** `run_id` of the Redis server process (INFO server). */
  runId: string;
  /**
   * True when `run_id` differs from the previous check: another server process answers (restart or
   * failover). Data may have survived (persistence, replication), so this alone is a softer signal
   * than `changed`; callers may re-announce on either.
   */
  runIdChanged: boolean;
}

export interface RedisEpochOptions {
  redis: Redis;
  keyPrefix?: string;
}

/**
 * Detects Redis data loss by a sentinel key: the first checker stores a random epoch (never expires);
 * if a later check finds another value, the data this instance wrote before may be gone.
 *
 * Contract: checks are serialized (a call made during another waits for it), so `changed` compares
 * consecutive observations of this instance. A failed check rejects and leaves the last observation
 * untouched, so the next successful check still reports a change that happened meanwhile.
 */
export interface RedisEpoch {
  check(): Promise<EpochCheck>;
  /** The epoch of the last successful check, if any. */
  readonly current: string | null;
}

export function createRedisEpoch(options: RedisEpochOptions): RedisEpoch {
  return new RedisEpochSentinel(options);
}

class RedisEpochSentinel implements RedisEpoch {
  private readonly redis: Redis;
  private readonly keys: PresenceKeys;
  private lastEpoch: string | null = null;
  private lastRunId: string | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(o: RedisEpochOptions) {
    this.redis = o.redis;
    this.keys = presenceKeys(o.keyPrefix);
  }

  get current(): string | null {
    return this.lastEpoch;
  }

  check(): Promise<EpochCheck> {
    const run = this.chain.then(
      () => this.checkOnce(),
      () => this.checkOnce(),
    );
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async checkOnce(): Promise<EpochCheck> {
    const [reply, info] = await Promise.all([
      luaScript('epoch').run(this.redis, [this.keys.epoch], [randomUUID()]),
      this.redis.info('server'),
    ]);
    const epoch = String((reply as [string, number])[0]);
    const runId = parseRunId(info);
    const result: EpochCheck = {
      epoch,
      changed: this.lastEpoch !== null && this.lastEpoch !== epoch,
      runId,
      runIdChanged: this.lastRunId !== null && this.lastRunId !== runId,
    };
    this.lastEpoch = epoch;
    this.lastRunId = runId;
    return result;
  }
}

/** Extracts `run_id` from an INFO reply. */
export function parseRunId(info: string): string {
  const match = /^run_id:([0-9a-f]+)\s*$/m.exec(info);
  if (match === null) throw new PresenceDataError('INFO server has no run_id');
  return match[1]!;
}
