/** `inPhase`: runs `body` with its own Cleanup (also run by the run's Cleanup on a signal), cleaned up when `body` ends. */
import { Cleanup } from '../scenarios/cleanup.js';

export async function inPhase<T>(parent: Cleanup, body: (phase: Cleanup) => Promise<T>): Promise<T> {
  const phase = new Cleanup();
  parent.push(() => phase.run());
  try {
    return await body(phase);
  } finally {
    await phase.run();
  }
}
