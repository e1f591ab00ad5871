import { describe, expect, it } from 'vitest';
import type { AgentEvent } from './catalog.js';
import { QueueOptionError } from './errors.js';
import { EventBatcher } from './event-batcher.js';

const ev = (n: number): AgentEvent => ({
  type: 'connection_closed',
  agentId: `a${n}`,
  connectionId: `c${n}`,
  connectionEpoch: n + 1,
  gatewayId: 'gw',
  reason: 'agent_disconnect',
  at: n,
});
const ids = (events: readonly AgentEvent[]) => events.map((e) => e.agentId);

function batcher(maxBatch = 3, maxBuffered = 9) {
  return new EventBatcher({ producerId: 'gw:1', instance: 'i1', maxBatch, maxBuffered });
}

describe('EventBatcher', () => {
  it('cuts a batch when it is full and gives it a deterministic id', () => {
    const b = batcher();
    expect([b.push(ev(0)), b.push(ev(1)), b.push(ev(2)), b.push(ev(3))]).toEqual([false, false, true, false]);
    expect(b.buffered).toBe(4);
    expect(b.openEvents).toBe(1);
    const [first] = b.take(10);
    expect(first?.jobId).toBe('gw_1.i1.0');
    expect(first?.batch).toMatchObject({ v: 1, producerId: 'gw:1', seq: 0 });
    expect(ids(first!.batch.events)).toEqual(['a0', 'a1', 'a2']);
    expect(b.cut()).toBe(true);
    expect(b.cut()).toBe(false);
    expect(b.take(10).map((p) => p.jobId)).toEqual(['gw_1.i1.1']);
  });

  it('keeps ids and order when an add fails, and forgets delivered batches', () => {
    const b = batcher();
    for (let i = 0; i < 7; i++) b.push(ev(i));
    b.cut();
    const sent = b.take(2);
    expect(b.buffered).toBe(7);
    b.settle(sent, false);
    expect(b.waitingBatches).toBe(3);
    const again = b.take(10);
    expect(again.map((p) => p.jobId)).toEqual(['gw_1.i1.0', 'gw_1.i1.1', 'gw_1.i1.2']);
    b.settle(again, true);
    expect(b.buffered).toBe(0);
    expect(b.dropped).toBe(0);
  });

  it('drops the oldest waiting batch whole when over the bound, and counts it', () => {
    const b = batcher(3, 6);
    for (let i = 0; i < 7; i++) b.push(ev(i));
    expect(b.buffered).toBe(4);
    expect(b.takeDropped()).toBe(3);
    expect(b.takeDropped()).toBe(0);
    const left = b.take(10);
    expect(ids(left[0]!.batch.events)).toEqual(['a3', 'a4', 'a5']);
    expect(left[0]?.jobId).toBe('gw_1.i1.1');
  });

  it('applies the bound to batches put back after a failed add: they are the oldest', () => {
    const b = batcher(3, 6);
    for (let i = 0; i < 6; i++) b.push(ev(i));
    const inFlight = b.take(10);
    for (let i = 6; i < 11; i++) b.push(ev(i)); // handed-out batches do not count against the bound
    expect(b.buffered).toBe(11);
    expect(b.dropped).toBe(0);
    b.settle(inFlight, false);
    expect(b.buffered).toBeLessThanOrEqual(6);
    expect(b.dropped).toBe(6);
    b.cut();
    expect(b.take(10).flatMap((p) => ids(p.batch.events))).toEqual(['a6', 'a7', 'a8', 'a9', 'a10']);
  });

  it('drops the oldest open events when no batch waits', () => {
    const b = new EventBatcher({ producerId: 'gw', instance: 'x', maxBatch: 4, maxBuffered: 4 });
    for (let i = 0; i < 4; i++) b.push(ev(i));
    const inFlight = b.take(1);
    for (let i = 4; i < 7; i++) b.push(ev(i));
    expect(b.buffered).toBe(7);
    b.settle(inFlight, false);
    expect(b.buffered).toBe(3);
    expect(b.dropped).toBe(4);
    expect(b.take(1)).toEqual([]);
    b.cut();
    expect(ids(b.take(1)[0]!.batch.events)).toEqual(['a4', 'a5', 'a6']);
  });

  it('dropAll empties what is not handed out and counts it', () => {
    const b = batcher();
    for (let i = 0; i < 5; i++) b.push(ev(i));
    expect(b.dropAll()).toBe(5);
    expect(b.buffered).toBe(0);
    expect(b.dropped).toBe(5);
  });

  it('fails fast on bad options', () => {
    const ok = { producerId: 'gw', instance: 'i', maxBatch: 10, maxBuffered: 100 };
    expect(() => new EventBatcher({ ...ok, producerId: '' })).toThrow(QueueOptionError);
    expect(() => new EventBatcher({ ...ok, instance: 'a.b' })).toThrow(/instance/);
    expect(() => new EventBatcher({ ...ok, maxBatch: 0 })).toThrow(/maxBatch/);
    expect(() => new EventBatcher({ ...ok, maxBuffered: 5 })).toThrow(/maxBuffered/);
  });
});
