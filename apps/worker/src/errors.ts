/** A method of the worker was called in a state that does not allow it (e.g. `start()` twice). */
export class WorkerStateError extends Error {
  override readonly name = 'WorkerStateError';
}
