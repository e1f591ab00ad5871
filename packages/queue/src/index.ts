export {
  type AgentEvent,
  type AgentEventType,
  type AgentStateEvent,
  agentEventSchema,
  agentStateChangedSchema,
  type ConnectionClosedEvent,
  type ConnectionOpenedEvent,
  connectionClosedSchema,
  connectionOpenedSchema,
  type EventBatch,
  eventBatchSchema,
  HEARTBEAT_FLUSH_SCHEDULER_ID,
  heartbeatFlushSchema,
  JOBS,
  MAX_EVENTS_PER_BATCH,
  parseEventBatch,
  QUEUES,
  type QueueName,
  queuePrefix,
  RETRY_BACKOFF_TYPE,
  retryDelayMs,
} from './catalog.js';
export { CloseTimeoutError, PermanentJobError, QueueOptionError, TimeoutError } from './errors.js';
export { EventBatcher, type EventBatcherOptions, type PendingBatch } from './event-batcher.js';
export {
  createEventProducer,
  type EventJobOptions,
  type EventProducer,
  type EventProducerObserver,
  type EventProducerOptions,
  type MonotonicClock,
} from './event-producer.js';
export {
  isAlive,
  type JobCounts,
  type JobOutcome,
  type JobWorker,
  type JobWorkerObserver,
  type JobWorkerOptions,
} from './job-worker.js';
export { createQueueRedis, type QueueRedisOptions } from './redis-connection.js';
export {
  createEventWorker,
  createHeartbeatFlushWorker,
  createHeartbeatSchedule,
  type EventJobInfo,
  type EventWorkerOptions,
  type HeartbeatFlushWorkerOptions,
  type HeartbeatSchedule,
  type HeartbeatScheduleOptions,
} from './workers.js';
