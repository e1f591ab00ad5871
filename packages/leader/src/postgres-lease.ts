import { type SQL, sql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { checkInt, checkText } from './errors.js';

/** A monotonic millisecond clock, e.g. `performance`. Only differences between readings matter. */
export interface MonotonicClock {
  now(): number;
}

type Schema = Record<string, unknown>;

export interface PostgresLeaseOptions<TSchema extends Schema> {
  /**
   * A drizzle database on postgres.js whose schema has the `sweeper_lease` table (migrated). Give
   * its pool a `statement_timeout`: a fenced statement holds the lease row until it commits.
   */
  db: PostgresJsDatabase<TSchema>;
  /** The lease's row: holders of different names do not exclude each other. */
  name: string;
  /**
   * Who holds it. Must be unique per process instance (add a random part to a stable id): a holder
   * id reused by a restarted process would keep the token of its predecessor.
   */
  holder: string;
  /** How long an acquisition or renewal lasts, on Postgres's clock. */
  ttlMs: number;
  /** Measures local validity (see `isLeader`). Default `performance`. */
  clock?: MonotonicClock;
}

/**
 * A lease on one Postgres row with a fencing token; Postgres's `now()` is the only clock that decides.
 *
 * Contract:
 * - `tryAcquire()` takes the lease when it is free or expired, or renews it when this holder has it,
 *   in one statement; it resolves true when this holder holds it afterwards. The token grows by one
 *   whenever the holder changes and stays the same across renewals. Rejects on database errors
 *   (and then counts as not held).
 * - `fence(token)` is a boolean SQL expression to put into EVERY write statement made as leader
 *   (evaluated once per statement, e.g. in a CTE): true only while this holder holds the lease with
 *   `token` and it has not expired, and it locks the lease row FOR SHARE until the statement's
 *   transaction ends. A takeover (an UPDATE of that row) therefore either committed before the
 *   statement, which then sees the fence false and must write nothing, or waits until the statement
 *   committed: no write of a former holder commits after its successor acquired. Fencing each
 *   statement, rather than opening a transaction with a fence check, keeps a paused holder from
 *   sitting on the row (an autocommit statement ends on the server even while its client is
 *   stopped) and stays correct if a driver replays statements outside their transaction.
 * - `isLeader` is a local estimate for deciding whether to try work: true from a successful
 *   `tryAcquire` until ttlMs have passed on the local monotonic clock since the attempt started.
 *   Safety never rests on it; only the fence does. `lost()` drops it at once (e.g. after a statement
 *   found the fence false).
 * - `release()` ends this holder's lease at once (a successor may acquire immediately); it is a
 *   no-op when not held. Calls on one lease must not overlap.
 */
export interface Lease {
  readonly name: string;
  readonly holder: string;
  readonly isLeader: boolean;
  /** The token of the last successful acquisition, or null when not held. */
  readonly token: number | null;
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
  fence(token: number): SQL;
  lost(): void;
}

export function createPostgresLease<TSchema extends Schema>(options: PostgresLeaseOptions<TSchema>): Lease {
  return new PostgresLease(options);
}

class PostgresLease<TSchema extends Schema> implements Lease {
  readonly name: string;
  readonly holder: string;
  private readonly db: PostgresJsDatabase<TSchema>;
  private readonly ttlMs: number;
  private readonly clock: MonotonicClock;
  private heldToken: number | null = null;
  private validUntil = -Infinity;

  constructor(o: PostgresLeaseOptions<TSchema>) {
    this.db = o.db;
    this.name = checkText('name', o.name);
    this.holder = checkText('holder', o.holder);
    this.ttlMs = checkInt('ttlMs', o.ttlMs, 100, 3_600_000);
    this.clock = o.clock ?? performance;
  }

  get isLeader(): boolean {
    return this.heldToken !== null && this.clock.now() < this.validUntil;
  }

  get token(): number | null {
    return this.heldToken;
  }

  async tryAcquire(): Promise<boolean> {
    const startedAt = this.clock.now();
    const expires = sql`now() + ${this.ttlMs}::float8 * interval '1 millisecond'`;
    let rows: { token: string | number }[];
    try {
      rows = await this.db.execute<{ token: string | number }>(sql`
        with upd as (
          update sweeper_lease set
            token = case when holder = ${this.holder}::text then token else token + 1 end,
            holder = ${this.holder}::text,
            expires_at = ${expires}
          where name = ${this.name}::text and (holder = ${this.holder}::text or expires_at <= now())
          returning token
        ),
        ins as (
          insert into sweeper_lease (name, holder, token, expires_at)
          select ${this.name}::text, ${this.holder}::text, 1, ${expires}
          where not exists (select 1 from upd)
          on conflict (name) do nothing
          returning token
        )
        select token from upd union all select token from ins`);
    } catch (err) {
      this.heldToken = null;
      throw err;
    }
    const row = rows[0];
    if (row === undefined) {
      this.heldToken = null;
      return false;
    }
    this.heldToken = Number(row.token);
    this.validUntil = startedAt + this.ttlMs;
    return true;
  }

  async release(): Promise<void> {
    const token = this.heldToken;
    this.heldToken = null;
    if (token === null) return;
    await this.db.execute(sql`
      update sweeper_lease set expires_at = now()
      where name = ${this.name}::text and holder = ${this.holder}::text and token = ${token}::bigint
        and expires_at > now()`);
  }

  fence(token: number): SQL {
    checkInt('token', token, 1);
    return sql`exists (select 1 from sweeper_lease
      where name = ${this.name}::text and holder = ${this.holder}::text and token = ${token}::bigint
        and expires_at > now()
      for share)`;
  }

  lost(): void {
    this.heldToken = null;
  }
}
