/**
 * A binary min-heap of (due time, agent index) pairs: the agents of a heartbeat stream ordered by
 * when their next heartbeat is due. Equal times come out in no particular order.
 */
export class DueHeap {
  private times: Float64Array;
  private items: Int32Array;
  private count = 0;

  constructor(capacity = 16) {
    this.times = new Float64Array(Math.max(1, capacity));
    this.items = new Int32Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  /** The earliest due time, or +Infinity when empty. */
  peekTime(): number {
    return this.count === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }

  push(time: number, item: number): void {
    if (this.count === this.times.length) this.grow();
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= time) break;
      this.times[i] = this.times[parent]!;
      this.items[i] = this.items[parent]!;
      i = parent;
    }
    this.times[i] = time;
    this.items[i] = item;
  }

  /** Removes and returns the item with the earliest due time; throws when empty. */
  pop(): number {
    if (this.count === 0) throw new RangeError('pop from an empty DueHeap');
    const top = this.items[0]!;
    const last = --this.count;
    const time = this.times[last]!;
    const item = this.items[last]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child = right < last && this.times[right]! < this.times[left]! ? right : left;
      if (this.times[child]! >= time) break;
      this.times[i] = this.times[child]!;
      this.items[i] = this.items[child]!;
      i = child;
    }
    this.times[i] = time;
    this.items[i] = item;
    return top;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    const items = new Int32Array(this.items.length * 2);
    times.set(this.times);
    items.set(this.items);
    this.times = times;
    this.items = items;
  }
}
