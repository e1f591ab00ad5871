import { describe, expect, it } from 'vitest';
import {
  mergeConnectOutcomes,
  mergeCounters,
  mergeRoundOutcomes,
  mergeStreamOutcomes,
  sequenceRoundOutcomes,
} from './merge-outcomes.js';
import type { ConnectOutcome, GeneratorUsage, RoundOutcome, StreamOutcome } from './types.js';

const usage = (cpuSeconds: number, rssBytes = 100): GeneratorUsage => ({
  processes: 1,
  cpuSeconds,
  peakProcessCpuSeconds: cpuSeconds,
  rssBytes,
});

const connect = (over: Partial<ConnectOutcome>): ConnectOutcome => ({
  requested: 10,
  connected: 10,
  failed: 0,
  firstDialAt: 1000,
  lastReplyAt: 2000,
  dialErrors: {},
  handshakeMs: [1],
  firstReplyMs: [2],
  badReplies: 0,
  usage: usage(1),
  ...over,
});

const round = (over: Partial<RoundOutcome>): RoundOutcome => ({
  sent: 10,
  replied: 10,
  unanswered: 0,
  badReplies: 0,
  unexpectedCloses: 0,
  latencyMs: [1, 2],
  usage: usage(1),
  ...over,
});

describe('mergeConnectOutcomes', () => {
  it('adds counts, spans the earliest dial to the latest reply and includes the coordinator', () => {
    const merged = mergeConnectOutcomes(
      [
        connect({
          connected: 9,
          failed: 1,
          firstDialAt: 1500,
          dialErrors: { 'http-503': 1 },
          usage: usage(2),
        }),
        connect({ lastReplyAt: 3000, dialErrors: { 'http-503': 2, ECONNRESET: 1 }, usage: usage(3) }),
      ],
      usage(0.5, 50),
    );
    expect(merged).toMatchObject({
      requested: 20,
      connected: 19,
      failed: 1,
      firstDialAt: 1000,
      lastReplyAt: 3000,
      dialErrors: { 'http-503': 3, ECONNRESET: 1 },
      handshakeMs: [1, 1],
      firstReplyMs: [2, 2],
      usage: { processes: 3, cpuSeconds: 5.5, peakProcessCpuSeconds: 3, rssBytes: 250 },
    });
  });
});

describe('round outcomes', () => {
  it('merges parallel slices of one round', () => {
    const merged = mergeRoundOutcomes(
      [round({ unanswered: 1, replied: 9 }), round({ latencyMs: [3] })],
      usage(0.1),
    );
    expect(merged).toMatchObject({ sent: 20, replied: 19, unanswered: 1, latencyMs: [1, 2, 3] });
    expect(merged.usage.processes).toBe(3);
  });

  it('sequences consecutive rounds of one generator', () => {
    const phase = sequenceRoundOutcomes([round({ usage: usage(1, 10) }), round({ usage: usage(2, 20) })]);
    expect(phase.sent).toBe(20);
    expect(phase.usage).toEqual({ processes: 1, cpuSeconds: 3, peakProcessCpuSeconds: 3, rssBytes: 20 });
  });

  it('sequences no rounds into an empty phase', () => {
    expect(sequenceRoundOutcomes([]).usage.processes).toBe(0);
  });
});

const stream = (over: Partial<StreamOutcome>): StreamOutcome => ({
  sent: 10,
  replied: 9,
  unanswered: 1,
  skippedInFlight: 2,
  badReplies: 0,
  unexpectedCloses: 1,
  latencyMs: [1],
  sendLagMs: [0.5],
  windowStartedAt: 1000,
  windowEndedAt: 2000,
  lastAnswered: { ids: ['a'], sentAt: [1900] },
  usage: usage(1),
  ...over,
});

describe('mergeStreamOutcomes', () => {
  it('adds counts, joins samples and last answers, and spans every window', () => {
    const merged = mergeStreamOutcomes(
      [
        stream({ windowStartedAt: 990, lastAnswered: { ids: ['a', 'b'], sentAt: [1900, 1950] } }),
        stream({ windowEndedAt: 2010, latencyMs: [2, 3], lastAnswered: { ids: ['c'], sentAt: [1800] } }),
      ],
      usage(0.2),
    );
    expect(merged).toMatchObject({
      sent: 20,
      replied: 18,
      unanswered: 2,
      skippedInFlight: 4,
      unexpectedCloses: 2,
      latencyMs: [1, 2, 3],
      sendLagMs: [0.5, 0.5],
      windowStartedAt: 990,
      windowEndedAt: 2010,
      lastAnswered: { ids: ['a', 'b', 'c'], sentAt: [1900, 1950, 1800] },
    });
    expect(merged.usage).toMatchObject({ processes: 3, cpuSeconds: 2.2, peakProcessCpuSeconds: 1 });
  });
});

describe('mergeCounters', () => {
  it('adds every counter', () => {
    const c = { requested: 1, connected: 2, sent: 3, received: 4, errors: 5 };
    expect(mergeCounters([c, c])).toEqual({ requested: 2, connected: 4, sent: 6, received: 8, errors: 10 });
  });
});
