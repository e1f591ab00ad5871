import { z } from 'zod';

/**
 * Every BullMQ queue of the system. Names contain no ':' (BullMQ forbids it); the key prefix set
 * with {@link queuePrefix} namespaces them in Redis.
 */
export const QUEUES = {
  /** Batches of connection and state events from the gateways. */
  agentEvents: 'agent-events',
  /** The one scheduled heartbeat flush (Redis last-seen -> Postgres). */
  heartbeatFlush: 'heartbeat-flush',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Job names within the queues. */
export const JOBS = {
  eventBatch: 'event-batch',
  heartbeatFlush: 'flush-heartbeats',
} as const;

/** Id of the job scheduler that creates heartbeat flush jobs. */
export const HEARTBEAT_FLUSH_SCHEDULER_ID = 'heartbeat-flush';

/** Name under which workers register the backoff of retried event batches (see `retryDelayMs`). */
export const RETRY_BACKOFF_TYPE = 'capped-exponential';

/**
 * BullMQ key prefix for a deployment whose other keys start with `keyPrefix` (e.g. `opamp:` gives
 * `opamp:bull`, so queue keys read `opamp:bull:agent-events:...`). Gateways and workers must agree.
 */
export function queuePrefix(keyPrefix: string): string {
  return `${keyPrefix}bull`;
}

const id = z.string().min(1);
const epoch = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const time = z.number().finite();

/** A connection accepted by a gateway; `at` is ms since the Unix epoch on the gateway's clock. */
export const connectionOpenedSchema = z.object({
  type: z.literal('connection_opened'),
  agentId: id,
  connectionId: id,
  connectionEpoch: epoch,
  gatewayId: id,
  transport: z.enum(['ws', 'http']),
  remoteAddress: z.string().nullable(),
  at: time,
});

/** A connection that ended, with the reason (agent_disconnect, heartbeat_timeout, ...). */
export const connectionClosedSchema = z.object({
  type: z.literal('connection_closed'),
  agentId: id,
  connectionId: id,
  connectionEpoch: epoch,
  gatewayId: id,
  reason: z.string(),
  at: time,
});

const attributes = z.record(z.string(), z.json());

/** State reported by an agent; absent fields are unchanged. Ordered by (connectionEpoch, sequenceNum). */
export const agentStateChangedSchema = z.object({
  type: z.literal('agent_state'),
  agentId: id,
  connectionEpoch: epoch,
  sequenceNum: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  at: time,
  description: z.object({ identifying: attributes, nonIdentifying: attributes }).optional(),
  capabilities: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  health: z.json().optional(),
  effectiveConfigHash: z.string().optional(),
});

export const agentEventSchema = z.discriminatedUnion('type', [
  connectionOpenedSchema,
  connectionClosedSchema,
  agentStateChangedSchema,
]);

export type ConnectionOpenedEvent = z.infer<typeof connectionOpenedSchema>;
export type ConnectionClosedEvent = z.infer<typeof connectionClosedSchema>;
export type AgentStateEvent = z.infer<typeof agentStateChangedSchema>;
/** Any event a gateway emits. */
export type AgentEvent = z.infer<typeof agentEventSchema>;
export type AgentEventType = AgentEvent['type'];

/** Most events one batch job may carry (bounds job size in Redis and transaction size in Postgres). */
export const MAX_EVENTS_PER_BATCH = 10_000;

/** Payload of one `event-batch` job. */
export const eventBatchSchema = z.object({
  /** Format version of the payload. */
  v: z.literal(1),
  /** The producer that cut the batch (e.g. the gateway id). */
  producerId: id,
  /** Position of the batch in its producer's sequence. */
  seq: z.number().int().min(0),
  events: z.array(agentEventSchema).min(1).max(MAX_EVENTS_PER_BATCH),
});

export type EventBatch = z.infer<typeof eventBatchSchema>;

/** Payload of a heartbeat flush job: empty (the flush state lives in Redis). */
export const heartbeatFlushSchema = z.object({}).loose();

/**
 * Validates a job payload. Throws a zod error naming the first invalid path; callers treat it as a
 * permanent failure (retrying the same payload cannot succeed).
 */
export function parseEventBatch(data: unknown): EventBatch {
  return eventBatchSchema.parse(data);
}

/**
 * Delay before retry number `attemptsMade` (1 for the first retry): `baseMs * 2^(attemptsMade-1)`
 * capped at `maxMs`, with up to `jitter` (0..1) of it taken off at random (`random` in [0, 1)).
 */
export function retryDelayMs(
  attemptsMade: number,
  baseMs: number,
  maxMs: number,
  jitter = 0.2,
  random: () => number = Math.random,
): number {
  const exp = Math.min(Math.max(attemptsMade - 1, 0), 52);
  const capped = Math.min(baseMs * 2 ** exp, maxMs);
  return Math.max(0, Math.round(capped * (1 - jitter * random())));
}
