import type { ManagedProcess } from './managed-process.js';
import { TargetStartError } from './server-target.js';

const POLL_MS = 100;

/**
 * Resolves once `probe()` returns true, polling every 100 ms; rejects when `process` exits first or
 * `timeoutMs` passes, with the process's recent output in the message.
 */
export async function waitUntil(
  process: ManagedProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.hasExited()) {
      throw new TargetStartError(`${process.label} exited before ${what}:\n${process.outputTail()}`);
    }
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new TargetStartError(`${process.label} not ${what} within ${timeoutMs} ms:\n${process.outputTail()}`);
}

/** True when GET `url` answers 200. */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
