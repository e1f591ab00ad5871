import { createHash, timingSafeEqual } from 'node:crypto';

/** A monotonic millisecond clock. */
export interface Clock {
  now(): number;
}

/**
 * Checks `Authorization: Bearer <token>` against a fixed token set in constant time (each candidate
 * is hashed so length differences leak nothing, and every configured token is compared). With no
 * tokens configured, authentication is off and every request passes.
 */
export class BearerAuth {
  private readonly digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** True when auth is off or the header carries one of the tokens. */
  check(authorizationHeader: string): boolean {
    if (!this.enabled) return true;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorizationHeader);
    const candidate = digest(match?.[1] ?? '');
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, candidate) || ok;
    return ok && match !== null;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Token bucket: `ratePerSecond` tokens per second, holding at most one second's worth (the burst).
 * Not thread-safe (one event loop).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly clock: Clock,
  ) {
    this.tokens = ratePerSecond;
    this.last = clock.now();
  }

  /** Takes one token; false when the bucket is empty. */
  tryTake(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.ratePerSecond, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Longest Retry-After a spread refusal is given, whatever the backlog. */
export const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * Spreads the retries of refused upgrades over time instead of sending a whole storm back at once.
 * Each refusal reserves the next free slot of the upgrade budget at or after `minSeconds` from now
 * (slots are 1 / `ratePerSecond` apart) and is told to retry then: 7,000 agents refused at 2,000
 * upgrades/s come back spread over 3.5 s after the minimum instead of all at the same second, where
 * most would be refused again. Once slots lie in the past, a refusal gets the minimum again.
 */
export class RetrySchedule {
  private nextSlotMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly minSeconds: number,
    private readonly ratePerSecond: number,
    private readonly clock: Clock,
  ) {}

  /** The Retry-After (whole seconds, at least the minimum) of one more refused client. */
  next(): number {
    const now = this.clock.now();
    const slot = Math.max(now + this.minSeconds * 1000, this.nextSlotMs);
    this.nextSlotMs = slot + 1000 / this.ratePerSecond;
    // the second the slot falls in: clients of one second come back together, one second apart
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(this.minSeconds, Math.floor((slot - now) / 1000)));
  }
}

export interface AdmissionOptions {
  readonly auth: BearerAuth;
  readonly maxConnections: number;
  readonly upgradeBucket: TokenBucket;
  /** Retry-After of a refusal; upgrades refused over the rate are spread from it (RetrySchedule). */
  readonly retryAfterSeconds: number;
  /** WebSockets currently open. */
  readonly openSockets: () => number;
  readonly onReject: (transport: 'ws' | 'http', reason: string) => void;
}

/** A refusal: the status and headers to answer with. */
export interface Refusal {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Decides, from headers alone and before any Redis work, whether a WebSocket upgrade or an HTTP
 * request is served. Order: draining (503), connection cap (503), bearer token (401), then the upgrade
 * rate (503, upgrades only: requests without a valid token never use up the upgrade budget).
 * Every 503 carries Retry-After: `retryAfterSeconds`, and for upgrades over the rate a later slot
 * of the upgrade budget when many were refused (see {@link RetrySchedule}).
 */
export class Admission {
  private draining = false;
  private httpInFlight = 0;
  private readonly retries: RetrySchedule;

  constructor(private readonly o: AdmissionOptions) {
    this.retries = new RetrySchedule(
      o.retryAfterSeconds,
      o.upgradeBucket.ratePerSecond,
      o.upgradeBucket.clock,
    );
  }

  /** From now on everything is refused with 503 (the gateway is shutting down). */
  startDraining(): void {
    this.draining = true;
  }

  get inFlightRequests(): number {
    return this.httpInFlight;
  }

  admitUpgrade(authorization: string): Refusal | null {
    return this.admit('ws', authorization);
  }

  admitRequest(authorization: string): Refusal | null {
    return this.admit('http', authorization);
  }

  requestStarted(): void {
    this.httpInFlight += 1;
  }

  requestFinished(): void {
    this.httpInFlight -= 1;
  }

  private admit(transport: 'ws' | 'http', authorization: string): Refusal | null {
    const busy = { 'retry-after': String(this.o.retryAfterSeconds) };
    if (this.draining) return this.refuse(transport, 'draining', 503, busy);
    if (this.o.openSockets() + this.httpInFlight >= this.o.maxConnections) {
      return this.refuse(transport, 'connection_cap', 503, busy);
    }
    if (!this.o.auth.check(authorization)) {
      return this.refuse(transport, 'unauthorized', 401, { 'www-authenticate': 'Bearer' });
    }
    if (transport === 'ws' && !this.o.upgradeBucket.tryTake()) {
      return this.refuse(transport, 'upgrade_rate', 503, { 'retry-after': String(this.retries.next()) });
    }
    return null;
  }

  private refuse(
    transport: 'ws' | 'http',
    reason: string,
    status: number,
    headers: Record<string, string>,
  ): Refusal {
    this.o.onReject(transport, reason);
    return { status, headers };
  }
}
