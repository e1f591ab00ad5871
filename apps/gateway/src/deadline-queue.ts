/**
 * DeadlineQueue: one timer for many deadlines that all lie the same fixed time after they were
 * added (e.g. the first-message timeout of every WebSocket), instead of one timer per item.
 */
import type { MonotonicClock } from '@opamp-fleet/presence';

/** Below this many expired slots the queue's arrays are not compacted. */
const COMPACT_MIN = 1024;

/**
 * Items expire `timeoutMs` after `add`, in the order they were added (the timeout is fixed and the
 * clock monotonic, so deadlines never decrease): `onExpire` gets each one once, not before its
 * deadline. Per item it keeps one array slot and one number, no timer and no object; an item that no
 * longer needs its deadline is simply skipped by `onExpire`. The timer is armed only while items
 * wait, and never keeps the process alive.
 */
export class DeadlineQueue<T> {
  private items: Array<T | undefined> = [];
  private deadlines: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly timeoutMs: number,
    private readonly onExpire: (item: T) => void,
    private readonly clock: MonotonicClock = performance,
  ) {}

  /** Items waiting for their deadline. */
  get size(): number {
    return this.items.length - this.head;
  }

  add(item: T): void {
    this.items.push(item);
    this.deadlines.push(this.clock.now() + this.timeoutMs);
    if (this.timer === null) this.arm();
  }

  private arm(): void {
    const wait = Math.max(0, Math.ceil(this.deadlines[this.head]! - this.clock.now()));
    this.timer = setTimeout(() => this.expire(), wait);
    this.timer.unref();
  }

  private expire(): void {
    this.timer = null;
    const now = this.clock.now();
    while (this.head < this.items.length && this.deadlines[this.head]! <= now) {
      const item = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head += 1;
      this.onExpire(item);
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.deadlines = [];
      this.head = 0;
    } else if (this.head >= COMPACT_MIN && this.head * 2 >= this.items.length) {
      this.items.splice(0, this.head);
      this.deadlines.splice(0, this.head);
      this.head = 0;
    }
    if (this.head < this.items.length) this.arm();
  }
}
