/**
 * Cleanup steps of a run, run in reverse order of registration. Every step runs even when an
 * earlier one fails; the first failure is rethrown after all ran. `run()` is idempotent; a step
 * registered after it started runs at once (its failure is ignored).
 */
export class Cleanup {
  private readonly steps: Array<() => Promise<unknown>> = [];
  private running: Promise<void> | null = null;

  /** Registers a step; once `run()` has started (a signal arrived mid-start-up), runs it right away. */
  push(step: () => Promise<unknown>): void {
    if (this.running !== null) {
      void step().catch(() => undefined);
      return;
    }
    this.steps.push(step);
  }

  /** Registers `step(value)` and returns `value`: `start().then((s) => cleanup.track(s, (x) => x.stop()))`. */
  track<T>(value: T, step: (value: T) => Promise<unknown>): T {
    this.push(() => step(value));
    return value;
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      let failure: unknown = null;
      for (const step of this.steps.reverse()) {
        try {
          await step();
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure !== null) throw failure;
    })();
    return this.running;
  }
}
