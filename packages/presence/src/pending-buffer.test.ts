import { describe, expect, it } from 'vitest';
import { PendingBuffer } from './pending-buffer.js';

describe('PendingBuffer', () => {
  it('coalesces touches of one agent: newest time wins, a seq-less touch keeps the previous seq', () => {
    const b = new PendingBuffer(10);
    b.touch('a', 1, 5);
    b.touch('a', 2, undefined);
    b.touch('b', 3, undefined);
    b.touch('a', 4, undefined);
    expect(b.size).toBe(2);
    expect(b.drain()).toEqual([
      ['b', { at: 3, seq: undefined }],
      ['a', { at: 4, seq: 5 }],
    ]);
    expect(b.size).toBe(0);
  });

  it('a touch dated before the buffered one keeps the newer time', () => {
    const b = new PendingBuffer(10);
    b.touch('a', 10, 5);
    b.touch('a', 4, undefined);
    expect(b.drain()).toEqual([['a', { at: 10, seq: 5 }]]);
  });

  it('a newer seq replaces an older one', () => {
    const b = new PendingBuffer(10);
    b.touch('a', 1, 5);
    b.touch('a', 2, 6);
    expect(b.drain()).toEqual([['a', { at: 2, seq: 6 }]]);
  });

  it('drops the least recently touched entries over maxPending and counts them', () => {
    const b = new PendingBuffer(3);
    for (const id of ['a', 'b', 'c']) b.touch(id, 0, undefined);
    b.touch('a', 1, undefined); // a becomes the newest
    b.touch('d', 2, undefined); // over the cap: b goes
    b.touch('e', 3, undefined); // c goes
    expect(b.drain().map(([id]) => id)).toEqual(['a', 'd', 'e']);
    expect(b.takeDropped()).toBe(2);
    expect(b.takeDropped()).toBe(0);
    expect(b.dropped).toBe(2);
  });

  it('restores failed entries ahead of newer ones, keeping newer touches', () => {
    const b = new PendingBuffer(10);
    b.touch('a', 1, 7);
    b.touch('b', 2, undefined);
    b.touch('c', 3, 1);
    const inFlight = b.drain();
    b.touch('b', 10, 3); // touched again while the flush was failing
    b.touch('c', 11, undefined); // newer touch without seq inherits the failed seq
    b.touch('d', 12, undefined);
    b.restore(inFlight);
    expect(b.drain()).toEqual([
      ['a', { at: 1, seq: 7 }],
      ['b', { at: 10, seq: 3 }],
      ['c', { at: 11, seq: 1 }],
      ['d', { at: 12, seq: undefined }],
    ]);
  });

  it('enforces the cap when restoring, dropping the oldest (restored) entries first', () => {
    const b = new PendingBuffer(2);
    b.touch('a', 1, undefined);
    b.touch('b', 2, undefined);
    const inFlight = b.drain();
    b.touch('c', 3, undefined);
    b.restore(inFlight);
    expect(b.drain().map(([id]) => id)).toEqual(['b', 'c']);
    expect(b.takeDropped()).toBe(1);
  });

  it('restoring nothing changes nothing', () => {
    const b = new PendingBuffer(2);
    b.touch('a', 1, undefined);
    b.restore([]);
    expect(b.size).toBe(1);
  });

  it('a run of checked touches keeps the first expectation; a seq without one drops it', () => {
    const b = new PendingBuffer(10);
    b.touch('a', 1, 6, 5);
    b.touch('a', 2, 7, 6);
    b.touch('a', 3, undefined); // no seq: keeps seq and expectation
    b.touch('b', 1, 3); // stored by its own authoritative write: no expectation
    b.touch('b', 2, 4, 3); // then checked against that write
    b.touch('c', 1, 9, 8);
    b.touch('c', 2, 10); // an unchecked seq supersedes the check
    b.touch('d', 1, undefined, 4); // an expectation without a seq means nothing
    expect(b.drain()).toEqual([
      ['a', { at: 3, seq: 7, expectedSeq: 5 }],
      ['b', { at: 2, seq: 4, expectedSeq: 3 }],
      ['c', { at: 2, seq: 10, expectedSeq: undefined }],
      ['d', { at: 1, seq: undefined, expectedSeq: undefined }],
    ]);
  });

  it('restoring a failed checked entry keeps the older expectation', () => {
    const b = new PendingBuffer(10);
    b.touch('a', 1, 6, 5);
    b.touch('b', 1, 6, 5);
    b.touch('c', 1, 6, 5);
    const inFlight = b.drain();
    b.touch('a', 2, 7, 6); // checked again: the failed write's expectation comes first
    b.touch('b', 2, 8); // an authoritative seq wins over the failed check
    b.touch('c', 2, undefined); // no seq: inherits the failed seq and its check
    b.restore(inFlight);
    expect(b.drain()).toEqual([
      ['a', { at: 2, seq: 7, expectedSeq: 5 }],
      ['b', { at: 2, seq: 8, expectedSeq: undefined }],
      ['c', { at: 2, seq: 6, expectedSeq: 5 }],
    ]);
  });
});
