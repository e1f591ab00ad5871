import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../events.js';
import { cmp, splitIntoRounds } from './batch.js';
import { compareConnectionEvents } from './connection-events.js';

describe('splitIntoRounds', () => {
  const item = (key: string, n: number, tag = '') => ({ key, n, tag });

  it('puts the k-th item of every key (in compare order) into round k, keys in order', () => {
    const rounds = splitIntoRounds(
      [item('b', 2), item('a', 3), item('b', 1), item('a', 1), item('c', 9), item('a', 2)],
      (i) => i.key,
      (x, y) => x.n - y.n,
      (i) => String(i.n),
    );
    expect(rounds.map((r) => r.map((i) => `${i.key}${i.n}`))).toEqual([
      ['a1', 'b1', 'c9'],
      ['a2', 'b2'],
      ['a3'],
    ]);
  });

  it('keeps only the first of items with the same dedupe key', () => {
    const rounds = splitIntoRounds(
      [item('a', 1, 'second'), item('a', 1, 'first'), item('a', 2)],
      (i) => i.key,
      (x, y) => x.n - y.n || cmp(x.tag, y.tag),
      (i) => String(i.n),
    );
    expect(rounds).toEqual([[item('a', 1, 'first')], [item('a', 2)]]);
  });

  it('returns no rounds for no items', () => {
    expect(splitIntoRounds([], String, cmp, String)).toEqual([]);
  });
});

describe('cmp', () => {
  it('orders null first, then by value', () => {
    expect([3, null, 1, 2].sort(cmp)).toEqual([null, 1, 2, 3]);
    expect(cmp(undefined, 1)).toBe(-1);
    expect(cmp(1, null)).toBe(1);
    expect(cmp('a', 'a')).toBe(0);
    expect(cmp('b', 'a')).toBe(1);
  });
});

describe('compareConnectionEvents', () => {
  const open = (c: string, epoch: number): ConnectionEvent => ({
    type: 'connection_opened',
    agentId: 'a',
    connectionId: c,
    connectionEpoch: epoch,
    gatewayId: 'g',
    transport: 'ws',
    remoteAddress: null,
    at: 0,
  });
  const close = (c: string, epoch: number): ConnectionEvent => ({
    type: 'connection_closed',
    agentId: 'a',
    connectionId: c,
    connectionEpoch: epoch,
    gatewayId: 'g',
    reason: 'x',
    at: 0,
  });

  it('orders the opens by epoch before the closes by epoch', () => {
    const sorted = [close('c2', 2), open('c2', 2), close('c1', 1), open('c3', 3), open('c1', 1)].sort(
      compareConnectionEvents,
    );
    expect(
      sorted.map((e) => `${e.type === 'connection_opened' ? 'open' : 'close'}:${e.connectionId}`),
    ).toEqual(['open:c1', 'open:c2', 'open:c3', 'close:c1', 'close:c2']);
    expect(compareConnectionEvents(open('c1', 1), open('c1', 1))).toBe(0);
  });
});
