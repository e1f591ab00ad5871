import { Worker } from 'node:worker_threads';

const THREAD_ENTRY = new URL('./offline-observer-thread.js', import.meta.url);

export interface ObserverInput {
  databaseUrl: string;
  ids: readonly string[];
  /** Polls stop after this long (ms from the thread's start), seen or not. */
  timeoutMs: number;
  pollIntervalMs: number;
}

export type ObserverMessage = { type: 'ready' } | { type: 'done'; seenMs: Float64Array };

/**
 * Watches agents go offline in Postgres from a worker thread of its own, so that the fleet sharing
 * this process (10,000 sockets answering their close handshakes at once) cannot delay the poll's
 * results or their time stamps: the times are those of the poll that first saw each agent offline.
 */
export class OfflineObserver {
  private constructor(
    private readonly worker: Worker,
    private readonly done: Promise<number[]>,
  ) {}

  /** Starts the thread; resolves once its first poll has answered (the loss may start then). */
  static start(input: ObserverInput): Promise<OfflineObserver> {
    const worker = new Worker(THREAD_ENTRY, { workerData: input });
    let markReady: () => void = () => {};
    let fail: (error: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      fail = reject;
    });
    const done = new Promise<number[]>((resolve, reject) => {
      worker.on('message', (m: ObserverMessage) => {
        if (m.type === 'ready') markReady();
        else resolve(Array.from(m.seenMs));
      });
      const failed = (error: Error) => {
        fail(error);
        reject(error);
      };
      worker.on('error', failed);
      worker.on('exit', (code) => failed(new Error(`offline observer thread exited (code ${code})`)));
    });
    done.catch(() => {}); // surfaced by ready or by seen()
    return ready.then(
      () => new OfflineObserver(worker, done),
      async (error: unknown) => {
        await worker.terminate();
        throw error;
      },
    );
  }

  /** Per id (in input order): wall-clock ms of the poll that first saw it offline, NaN if none did. */
  seen(): Promise<number[]> {
    return this.done;
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
