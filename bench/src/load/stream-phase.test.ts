import { describe, expect, it } from 'vitest';
import type { FleetIo } from './phase.js';
import { StreamPhase } from './stream-phase.js';

/** A fleet of `size` agents whose sends are recorded; `open[k] = false` closes agent k. */
function fakeFleet(size: number) {
  const open = Array.from({ length: size }, () => true);
  const sends: Array<{ k: number; tag: number; at: number }> = [];
  let now = 0;
  const io: FleetIo = {
    size,
    isReady: (k) => open[k]!,
    sendHeartbeat: (k, tag) => {
      if (!open[k]) return false;
      sends.push({ k, tag, at: now });
      return true;
    },
    agentId: (k) => `agent-${k}`,
  };
  const clock = { now: () => now, epochNow: () => 1_000_000 + now };
  return {
    io,
    open,
    sends,
    clock,
    advance(ms: number, phase: StreamPhase, stepMs = 5) {
      for (let t = 0; t < ms; t += stepMs) {
        now += stepMs;
        phase.tick();
      }
    },
  };
}

/** A deterministic [0, 1) sequence. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function answerAll(phase: StreamPhase, fleet: ReturnType<typeof fakeFleet>, from = 0): number {
  const list = fleet.sends.slice(from);
  for (const s of list) phase.onReply(s.k, 1, true);
  return fleet.sends.length;
}

describe('StreamPhase', () => {
  it('sends each agent once per interval, spread out, within ±10% jitter', () => {
    const fleet = fakeFleet(200);
    const phase = new StreamPhase(fleet.io, 7, {
      intervalMs: 1000,
      jitter: 0.1,
      random: lcg(1),
      clock: fleet.clock,
    });
    phase.start();
    let answered = 0;
    for (let second = 0; second < 10; second++) {
      for (let step = 0; step < 20; step++) {
        fleet.advance(50, phase);
        answered = answerAll(phase, fleet, answered);
      }
    }
    // 10 s at one heartbeat per second per agent: ~2000 sends, not in lock-step bursts.
    expect(fleet.sends.length).toBeGreaterThan(1850);
    expect(fleet.sends.length).toBeLessThan(2150);
    expect(fleet.sends.every((s) => s.tag === 7)).toBe(true);
    const perTenth = new Array(100).fill(0);
    for (const s of fleet.sends) perTenth[Math.floor(s.at / 100) % 100]++;
    expect(Math.max(...perTenth)).toBeLessThan(45); // ~20 per 100 ms on average
    for (let k = 0; k < 200; k++) {
      const times = fleet.sends.filter((s) => s.k === k).map((s) => s.at);
      for (let i = 1; i < times.length; i++) {
        const gap = times[i]! - times[i - 1]!;
        expect(gap).toBeGreaterThanOrEqual(895);
        expect(gap).toBeLessThanOrEqual(1105);
      }
    }
  });

  it('measures only between mark and stop, and skips a due send while one is in flight', () => {
    const fleet = fakeFleet(2);
    const phase = new StreamPhase(fleet.io, 1, {
      intervalMs: 100,
      jitter: 0,
      random: () => 0.5,
      clock: fleet.clock,
    });
    phase.start();
    fleet.advance(50, phase); // both send at t=50 (unmeasured)
    expect(fleet.sends).toHaveLength(2);
    phase.onReply(0, 3, true);
    phase.onReply(1, 3, true);
    phase.mark();
    fleet.advance(100, phase); // both send at t=150 (measured)
    phase.onReply(0, 4, true); // agent 1 stays unanswered
    fleet.advance(100, phase); // t=250: agent 0 sends, agent 1 skips
    phase.onReply(0, 5, false);
    phase.stopSending();
    fleet.advance(200, phase); // stopped: nothing more
    expect(fleet.sends).toHaveLength(5);
    expect(phase.outstanding()).toBe(1);
    const out = phase.outcome();
    expect(out).toMatchObject({
      sent: 3,
      replied: 2,
      unanswered: 1,
      skippedInFlight: 1,
      badReplies: 1,
      latencyMs: [4, 5],
      sendLagMs: [0, 0, 0],
      windowStartedAt: 1_000_050,
      windowEndedAt: 1_000_250,
    });
    // agent 0's last VALID reply was to its heartbeat sent at t=150; agent 1's to the one at t=50
    expect(out.lastAnswered).toEqual({ ids: ['agent-0', 'agent-1'], sentAt: [1_000_150, 1_000_050] });
  });

  it('drops agents whose socket closed and settles once measured sends are answered or lost', async () => {
    const fleet = fakeFleet(3);
    const phase = new StreamPhase(fleet.io, 1, {
      intervalMs: 100,
      jitter: 0,
      random: () => 0,
      clock: fleet.clock,
    });
    phase.start();
    phase.mark();
    fleet.advance(5, phase); // all three send at t=5
    fleet.open[2] = false;
    phase.onLost(2);
    phase.onReply(0, 1, true);
    phase.stopSending();
    let settled = false;
    const waiting = phase.settledOrTimeout(60_000).then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    phase.onReply(1, 1, true);
    await waiting;
    expect(phase.outcome()).toMatchObject({ sent: 3, replied: 2, unanswered: 1 });
    expect(phase.outcome().lastAnswered.ids).toEqual(['agent-0', 'agent-1']);
  });

  it('gives up waiting after the timeout', async () => {
    const fleet = fakeFleet(1);
    const phase = new StreamPhase(fleet.io, 1, {
      intervalMs: 100,
      jitter: 0,
      random: () => 0,
      clock: fleet.clock,
    });
    phase.start();
    phase.mark();
    fleet.advance(5, phase);
    phase.stopSending();
    await phase.settledOrTimeout(1);
    expect(phase.outcome()).toMatchObject({ sent: 1, replied: 0, unanswered: 1 });
  });
});
