/**
 * A background task run every `intervalMs`: runs never overlap (the next is scheduled after the
 * previous one settled), failures go to `onError`, and the timer does not keep the process alive.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs the task once now (joining a run in progress). Never rejects. */
  runOnce(): Promise<void> {
    this.running ??= this.task()
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  start(): void {
    if (this.timer !== null || this.stopped) return;
    this.schedule();
  }

  /** Stops scheduling and waits for a run in progress. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.runOnce().then(() => {
        if (!this.stopped) this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }
}
