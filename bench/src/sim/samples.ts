/**
 * `SampleBuffer`: keeps up to `capacity` samples; beyond that a uniform reservoir sample (Algorithm
 * R), so a long run's distribution stays representative in bounded memory.
 */
export class SampleBuffer {
  private values: Float64Array;
  private size = 0;
  private seen = 0;

  constructor(
    private readonly capacity = 200_000,
    private readonly random: () => number = Math.random,
  ) {
    this.values = new Float64Array(Math.min(capacity, 1024));
  }

  add(value: number): void {
    this.seen++;
    if (this.size < this.capacity) {
      if (this.size === this.values.length) {
        const grown = new Float64Array(Math.min(this.capacity, this.values.length * 2));
        grown.set(this.values);
        this.values = grown;
      }
      this.values[this.size++] = value;
      return;
    }
    const slot = Math.floor(this.random() * this.seen);
    if (slot < this.capacity) this.values[slot] = value;
  }

  /** How many samples were offered (kept or not). */
  get count(): number {
    return this.seen;
  }

  toArray(): Float64Array {
    return this.values.slice(0, this.size);
  }

  clear(): void {
    this.size = 0;
    this.seen = 0;
  }
}
