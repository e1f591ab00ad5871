import type { GatewayConfig } from '@opamp-fleet/config';
import {
  type AgentEvent,
  type AgentStateEvent,
  createEventProducer,
  type EventProducer,
  queuePrefix,
} from '@opamp-fleet/queue';
import type { Redis } from 'ioredis';
import type { ConnectionCloseReason } from './close-codes.js';
import type { GatewayMetrics, Transport } from './metrics.js';

/** The state an agent_state event carries besides its identity and position (absent = unchanged). */
export type StatePart = Pick<
  AgentStateEvent,
  'description' | 'capabilities' | 'health' | 'effectiveConfigHash'
>;

/** State reported by a connection that has no epoch yet, held until it gets one. */
export interface PendingState {
  readonly sequenceNum: number;
  readonly part: StatePart;
}

/** One connection of one agent as connection events name it. */
export interface ConnectionRef {
  readonly agentId: string;
  readonly connectionId: string;
  readonly epoch: number;
}

export interface AgentEventsOptions {
  readonly gatewayId: string;
  readonly sink: Pick<EventProducer, 'emit'>;
  readonly metrics: GatewayMetrics;
  /** Wall clock in ms since the Unix epoch: the `at` of every event. */
  readonly now: () => number;
}

/**
 * Builds and emits the gateway's agent events (connection_opened, connection_closed, agent_state).
 *
 * Contract: every call is synchronous and hands the event to the producer's bounded buffer (never
 * waits for Redis, never throws). Events carry the connection epoch, so consumers order them by
 * (epoch, sequence number), not by `at` (a gateway's clock) nor by arrival. Callers emit an
 * opened event once per epoch before any state or close event of that epoch, and a closed event at
 * most once per epoch.
 */
export class AgentEvents {
  constructor(private readonly o: AgentEventsOptions) {}

  opened(c: ConnectionRef, transport: Transport, remoteAddress: string): void {
    this.emit({
      type: 'connection_opened',
      agentId: c.agentId,
      connectionId: c.connectionId,
      connectionEpoch: c.epoch,
      gatewayId: this.o.gatewayId,
      transport,
      remoteAddress: remoteAddress === '' ? null : remoteAddress,
      at: this.o.now(),
    });
  }

  closed(c: ConnectionRef, reason: ConnectionCloseReason): void {
    this.emit({
      type: 'connection_closed',
      agentId: c.agentId,
      connectionId: c.connectionId,
      connectionEpoch: c.epoch,
      gatewayId: this.o.gatewayId,
      reason,
      at: this.o.now(),
    });
  }

  state(agentId: string, epoch: number, state: PendingState): void {
    this.emit({
      type: 'agent_state',
      agentId,
      connectionEpoch: epoch,
      sequenceNum: state.sequenceNum,
      at: this.o.now(),
      ...state.part,
    });
  }

  private emit(event: AgentEvent): void {
    this.o.metrics.events.inc({ type: event.type });
    this.o.sink.emit(event);
  }
}

/** Merges a newer pending state over an older one (fields the newer one lacks are kept). */
export function mergePending(older: PendingState | null, newer: PendingState): PendingState {
  if (older === null) return newer;
  return { sequenceNum: newer.sequenceNum, part: { ...older.part, ...newer.part } };
}

export interface GatewayEventProducerOptions {
  readonly config: GatewayConfig;
  /** A client from createQueueRedis (role 'producer'), owned by the caller. */
  readonly connection: Redis;
  /** The gateway's metrics, once they exist (the buffer gauge reads the producer, so it comes first). */
  readonly metrics: () => GatewayMetrics | undefined;
  /** Reports a Redis failure (throttled by the caller). */
  readonly warn: (err: unknown, what: string) => void;
}

/** The gateway's batching event producer on the deployment's queue, reporting to its metrics. */
export function createGatewayEventProducer(o: GatewayEventProducerOptions): EventProducer {
  const { config } = o;
  return createEventProducer({
    connection: o.connection,
    prefix: queuePrefix(config.redisKeyPrefix),
    // Job ids also carry a random id of this producer instance, so a restarted process with the same
    // GATEWAY_ID never reuses the id of a kept job (which BullMQ would drop as a duplicate).
    producerId: config.gatewayId,
    maxBatch: config.eventBatchMax,
    flushMs: config.eventFlushIntervalMs,
    maxBuffered: config.eventMaxBuffered,
    observer: {
      onAdded: (_batches, _events, seconds) => o.metrics()?.eventAddSeconds.observe(seconds),
      onAddError: (err) => {
        o.metrics()?.eventAddErrors.inc();
        o.warn(err, 'agent events are buffered');
      },
      onDropped: (count) => o.metrics()?.eventsDropped.inc(count),
      onError: (err) => o.warn(err, 'event queue'),
    },
  });
}
