import { describe, expect, it } from 'vitest';
import { DueHeap } from './due-heap.js';

describe('DueHeap', () => {
  it('pops items in due-time order and grows past its capacity', () => {
    const heap = new DueHeap(2);
    const times = [50, 10, 40, 30, 20, 60, 0, 35];
    for (const [i, t] of times.entries()) heap.push(t, i);
    expect(heap.size).toBe(times.length);
    const popped: number[] = [];
    while (heap.size > 0) {
      const t = heap.peekTime();
      const item = heap.pop();
      expect(times[item]).toBe(t);
      popped.push(t);
    }
    expect(popped).toEqual([...times].sort((a, b) => a - b));
  });

  it('stays ordered under interleaved pushes and pops (random sequence)', () => {
    const heap = new DueHeap();
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const model: number[] = [];
    for (let i = 0; i < 2000; i++) {
      if (model.length > 0 && random() < 0.4) {
        model.sort((a, b) => a - b);
        const expected = model.shift()!;
        expect(heap.peekTime()).toBe(expected);
        heap.pop();
      } else {
        const t = Math.floor(random() * 1000);
        model.push(t);
        heap.push(t, i);
      }
    }
    expect(heap.size).toBe(model.length);
  });

  it('reports an empty heap', () => {
    const heap = new DueHeap();
    expect(heap.peekTime()).toBe(Number.POSITIVE_INFINITY);
    expect(() => heap.pop()).toThrow(RangeError);
  });
});
