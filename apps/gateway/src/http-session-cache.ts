/**
 * What a gateway last stored for a plain-HTTP agent in the shared session store: enough to answer
 * its next in-sequence heartbeat poll without a session script (see SessionCore).
 */
export interface CachedHttpSession {
  /** sequence_num of the agent's last poll on this gateway (stored, or buffered as a checked touch). */
  seq: number;
  capabilities: number;
  /**
   * Address of the agent's last poll that went through the session store (polls answered from the
   * cache do not read theirs): a reopened session is reported with it.
   */
  remoteAddress: string;
  /** Id of the last poll's request: the connection id of a session reopened after it. */
  lastRequestId: string;
}

/** Default bound of the cache: agents per gateway process. */
export const DEFAULT_HTTP_SESSION_CACHE_SIZE = 100_000;

/**
 * Bounded per-process map of agent id -> {@link CachedHttpSession}, least recently stored dropped
 * first (polls answered from an entry update it in place, without making it newer). Only a cache:
 * an agent missing from it (never seen here, evicted, this process restarted) takes the session
 * store's path, which is always correct; entries are checked against Redis by the presence
 * writer's next flush and dropped when Redis holds something else.
 */
export class HttpSessionCache {
  private readonly entries = new Map<string, CachedHttpSession>();

  constructor(private readonly maxEntries: number = DEFAULT_HTTP_SESSION_CACHE_SIZE) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(agentId: string): CachedHttpSession | undefined {
    return this.entries.get(agentId);
  }

  /** Stores `entry` as the newest one, dropping the least recently stored entry over the bound. */
  set(agentId: string, entry: CachedHttpSession): void {
    this.entries.delete(agentId);
    this.entries.set(agentId, entry);
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  delete(agentId: string): void {
    this.entries.delete(agentId);
  }

  /** Forgets every agent (Redis lost its data). */
  clear(): void {
    this.entries.clear();
  }
}
