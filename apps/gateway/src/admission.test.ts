import { describe, expect, it } from 'vitest';
import { Admission, BearerAuth, MAX_RETRY_AFTER_SECONDS, RetrySchedule, TokenBucket } from './admission.js';

class FakeClock {
  t = 0;
  now() {
    return this.t;
  }
}

describe('BearerAuth', () => {
  it('accepts exactly the configured tokens', () => {
    const auth = new BearerAuth(['alpha', 'beta']);
    expect(auth.enabled).toBe(true);
    expect(auth.check('Bearer alpha')).toBe(true);
    expect(auth.check('bearer  beta ')).toBe(true);
    expect(auth.check('Bearer alph')).toBe(false);
    expect(auth.check('Bearer alpha beta')).toBe(false);
    expect(auth.check('Basic YWxwaGE=')).toBe(false);
    expect(auth.check('')).toBe(false);
  });

  it('lets everything pass when no token is configured', () => {
    const auth = new BearerAuth([]);
    expect(auth.enabled).toBe(false);
    expect(auth.check('')).toBe(true);
  });
});

describe('TokenBucket', () => {
  it('allows a one-second burst, then refills at the rate', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, clock);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
    clock.t = 499;
    expect(bucket.tryTake()).toBe(false);
    clock.t = 500;
    expect(bucket.tryTake()).toBe(true);
    clock.t = 10_000;
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
  });
});

describe('Admission', () => {
  function make(openSockets = 0) {
    const rejects: string[] = [];
    const admission = new Admission({
      auth: new BearerAuth(['t']),
      maxConnections: 3,
      upgradeBucket: new TokenBucket(100, new FakeClock()),
      retryAfterSeconds: 30,
      openSockets: () => openSockets,
      onReject: (transport, reason) => rejects.push(`${transport}:${reason}`),
    });
    return { admission, rejects };
  }

  it('refuses with 401 without the token and admits with it', () => {
    const { admission, rejects } = make();
    expect(admission.admitUpgrade('')).toEqual({ status: 401, headers: { 'www-authenticate': 'Bearer' } });
    expect(admission.admitUpgrade('Bearer t')).toBeNull();
    expect(rejects).toEqual(['ws:unauthorized']);
  });

  it('counts in-flight HTTP requests against the connection cap', () => {
    const { admission, rejects } = make(2);
    expect(admission.admitRequest('Bearer t')).toBeNull();
    admission.requestStarted();
    expect(admission.admitUpgrade('Bearer t')?.status).toBe(503);
    admission.requestFinished();
    expect(admission.admitUpgrade('Bearer t')).toBeNull();
    expect(rejects).toEqual(['ws:connection_cap']);
  });

  it('spends no upgrade budget on requests without a valid token', () => {
    const rejects: string[] = [];
    const admission = new Admission({
      auth: new BearerAuth(['t']),
      maxConnections: 10,
      upgradeBucket: new TokenBucket(1, new FakeClock()),
      retryAfterSeconds: 30,
      openSockets: () => 0,
      onReject: (_t, reason) => rejects.push(reason),
    });
    expect(admission.admitUpgrade('Bearer x')?.status).toBe(401);
    expect(admission.admitUpgrade('Bearer t')).toBeNull();
    expect(admission.admitUpgrade('Bearer t')?.status).toBe(503);
    expect(rejects).toEqual(['unauthorized', 'upgrade_rate']);
  });

  it('spreads the Retry-After of upgrades refused over the rate across later slots of the budget', () => {
    const clock = new FakeClock();
    const admission = new Admission({
      auth: new BearerAuth(['t']),
      maxConnections: 100_000,
      upgradeBucket: new TokenBucket(100, clock),
      retryAfterSeconds: 30,
      openSockets: () => 0,
      onReject: () => undefined,
    });
    for (let i = 0; i < 100; i++) expect(admission.admitUpgrade('Bearer t')).toBeNull();
    const retryAfter = Array.from({ length: 350 }, () =>
      Number(admission.admitUpgrade('Bearer t')?.headers?.['retry-after']),
    );
    // 100 slots per second from 30 s on: 30 s for the first 100, then 31, 32, 33 s
    expect(retryAfter.slice(0, 100).every((s) => s === 30)).toBe(true);
    expect(retryAfter.slice(100, 200).every((s) => s === 31)).toBe(true);
    expect(retryAfter.at(-1)).toBe(33);
    // once the reserved slots are past, a refusal gets the minimum again
    clock.t += 40_000;
    for (let i = 0; i < 100; i++) admission.admitUpgrade('Bearer t');
    expect(admission.admitUpgrade('Bearer t')?.headers?.['retry-after']).toBe('30');
  });

  it('caps a spread Retry-After', () => {
    const clock = new FakeClock();
    const schedule = new RetrySchedule(30, 1, clock);
    let last = 0;
    for (let i = 0; i < 5000; i++) last = schedule.next();
    expect(last).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it('refuses everything with 503 + Retry-After while draining', () => {
    const { admission } = make();
    admission.startDraining();
    expect(admission.admitRequest('Bearer t')).toEqual({ status: 503, headers: { 'retry-after': '30' } });
  });
});
