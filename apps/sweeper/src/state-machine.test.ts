import { describe, expect, it } from 'vitest';
import {
  type AgentStatus,
  confirmExpired,
  detectionLagSeconds,
  errorCutoff,
  GATEWAY_OFFLINE_REASONS,
  nextStatus,
  offlineCutoff,
  type StatusEvent,
  TRANSIENT_CLOSE_REASONS,
} from './state-machine.js';

const STATUSES: AgentStatus[] = ['online', 'offline', 'error'];

describe('nextStatus', () => {
  it('brings offline and errored agents online on a connection, and leaves online ones', () => {
    expect(nextStatus('offline', { type: 'connected' })).toEqual({
      from: 'offline',
      to: 'online',
      reason: 'connected',
      decidedBy: 'gateway',
    });
    expect(nextStatus('error', { type: 'connected' })).toMatchObject({ to: 'online', decidedBy: 'gateway' });
    expect(nextStatus('online', { type: 'connected' })).toBeNull();
  });

  it.each(GATEWAY_OFFLINE_REASONS)(
    'takes an online agent offline on a %s close, decided by the gateway',
    (reason) => {
      const event: StatusEvent = { type: 'closed', reason };
      expect(nextStatus('online', event)).toEqual({
        from: 'online',
        to: 'offline',
        reason,
        decidedBy: 'gateway',
      });
      expect(nextStatus('offline', event)).toBeNull();
      expect(nextStatus('error', event)).toBeNull();
    },
  );

  it('times out only online agents, decided by the sweeper', () => {
    expect(nextStatus('online', { type: 'heartbeat_timeout' })).toEqual({
      from: 'online',
      to: 'offline',
      reason: 'heartbeat_timeout',
      decidedBy: 'sweeper',
    });
    expect(nextStatus('offline', { type: 'heartbeat_timeout' })).toBeNull();
    expect(nextStatus('error', { type: 'heartbeat_timeout' })).toBeNull();
  });

  it('moves only offline agents to error, decided by the sweeper', () => {
    expect(nextStatus('offline', { type: 'offline_too_long' })).toEqual({
      from: 'offline',
      to: 'error',
      reason: 'offline_too_long',
      decidedBy: 'sweeper',
    });
    expect(nextStatus('online', { type: 'offline_too_long' })).toBeNull();
    expect(nextStatus('error', { type: 'offline_too_long' })).toBeNull();
  });

  it.each(TRANSIENT_CLOSE_REASONS)('changes nothing on a %s close: the agent is expected back', (reason) => {
    for (const from of STATUSES) expect(nextStatus(from, { type: 'closed', reason })).toBeNull();
  });

  it('never counts a transient close reason among those that take an agent offline', () => {
    for (const reason of TRANSIENT_CLOSE_REASONS) {
      expect(GATEWAY_OFFLINE_REASONS as readonly string[]).not.toContain(reason);
    }
  });

  it('never produces a transition to the same status or an online -> error jump', () => {
    const events: StatusEvent[] = [
      { type: 'connected' },
      { type: 'heartbeat_timeout' },
      { type: 'offline_too_long' },
      ...GATEWAY_OFFLINE_REASONS.map((reason) => ({ type: 'closed', reason }) as const),
    ];
    const edges = new Set<string>();
    for (const from of STATUSES) {
      for (const e of events) {
        const t = nextStatus(from, e);
        if (t === null) continue;
        expect(t.to).not.toBe(from);
        edges.add(`${t.from}->${t.to}`);
      }
    }
    expect([...edges].sort()).toEqual([
      'error->online',
      'offline->error',
      'offline->online',
      'online->offline',
    ]);
  });
});

describe('two-phase expiry', () => {
  const found = [
    { agentId: 'silent', score: 1000 },
    { agentId: 'heartbeat-in-between', score: 1000 },
    { agentId: 'removed-in-between', score: 900 },
    { agentId: 'moved-but-still-old', score: 800 },
  ];

  it('keeps only entries still expired at the re-check, with the re-checked score', () => {
    const rechecked = new Map<string, number | null>([
      ['silent', 1000],
      ['heartbeat-in-between', 5000],
      ['removed-in-between', null],
      ['moved-but-still-old', 1500],
    ]);
    expect(confirmExpired(found, rechecked, 2000)).toEqual({
      confirmed: [
        { agentId: 'silent', score: 1000 },
        { agentId: 'moved-but-still-old', score: 1500 },
      ],
      refreshed: ['heartbeat-in-between'],
      vanished: ['removed-in-between'],
    });
  });

  it('treats an agent missing from the re-check as vanished and the cutoff as inclusive', () => {
    expect(confirmExpired([{ agentId: 'a', score: 1 }], new Map(), 10).vanished).toEqual(['a']);
    expect(confirmExpired([{ agentId: 'a', score: 10 }], new Map([['a', 10]]), 10).confirmed).toHaveLength(1);
    expect(confirmExpired([{ agentId: 'a', score: 10 }], new Map([['a', 11]]), 10).refreshed).toEqual(['a']);
  });

  it('computes cutoffs and the detection lag on one clock', () => {
    expect(offlineCutoff(100_000, 60)).toBe(40_000);
    expect(errorCutoff(1_000_000, 600)).toBe(400_000);
    expect(detectionLagSeconds(40_000, 101_500, 60)).toBe(1.5);
    expect(detectionLagSeconds(40_000, 90_000, 60)).toBe(0);
  });
});
