/**
 * Runs `read` every `intervalMs` until `stop()`, never overlapping (the next read is scheduled when
 * the previous one settles), and collects what each read returns. A failed read is a missed sample;
 * the next one follows. `stop()` waits for a read in flight and returns every value collected.
 */
export function startSampler<T>(
  read: () => Promise<readonly T[]>,
  intervalMs: number,
): { stop(): Promise<T[]> } {
  const values: T[] = [];
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const sample = (): void => {
    inFlight = read()
      .then((got) => {
        if (!stopped) values.push(...got);
      })
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(sample, intervalMs);
      });
  };
  sample();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      return values;
    },
  };
}
