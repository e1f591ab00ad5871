import { describe, expect, it } from 'vitest';
import { ReplyQueue } from './reply-queue.js';

describe('ReplyQueue', () => {
  it('hands out items in order, to waiters first come first served', async () => {
    const q = new ReplyQueue<number>();
    q.push(1);
    const a = q.next(1000);
    const b = q.next(1000);
    q.push(2);
    expect([await a, await b]).toEqual([1, 2]);
  });

  it('rejects waiters after a failure, but only once earlier items are consumed', async () => {
    const q = new ReplyQueue<number>();
    const waiting = q.next(1000);
    q.fail(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
    const q2 = new ReplyQueue<number>();
    q2.push(7);
    q2.fail(new Error('closed'));
    expect(await q2.next(1000)).toBe(7);
    await expect(q2.next(1000)).rejects.toThrow('closed');
  });

  it('times out', async () => {
    await expect(new ReplyQueue<number>().next(1)).rejects.toThrow(/no reply within 1 ms/);
  });
});
