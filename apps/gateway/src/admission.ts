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
    private readonly ratePerSecond: number,
    private readonly clock: Clock,
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

export interface AdmissionOptions {
  readonly auth: BearerAuth;
  readonly maxConnections: number;
  readonly upgradeBucket: TokenBucket;
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
 * Every 503 carries Retry-After.
 */
export class Admission {
  private draining = false;
  private httpInFlight = 0;

  constructor(private readonly o: AdmissionOptions) {}

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
    if (transport === 'ws' && !this.o.upgradeBucket.tryTake())
      return this.refuse(transport, 'upgrade_rate', 503, busy);
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
