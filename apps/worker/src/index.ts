export { type BatchWritten, isPermanentWriteError, splitBatch, writeBatches } from './batch-writer.js';
export { WorkerStateError } from './errors.js';
export {
  type FlushRun,
  HeartbeatFlusher,
  type HeartbeatFlusherOptions,
  type LastSeenWriter,
} from './heartbeat-flusher.js';
export { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
export { createWorker, type Worker, type WorkerDeps } from './worker.js';
