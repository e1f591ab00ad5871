import { Counter, Gauge, Histogram, type Registry } from '@opamp-fleet/telemetry';

export type Transport = 'ws' | 'http';

/** Every metric of the gateway, defined once on the injected registry. No per-agent labels. */
export interface GatewayMetrics {
  readonly connections: Gauge<'transport'>;
  readonly messages: Counter<'transport' | 'kind'>;
  readonly decodeErrors: Counter<'transport' | 'code'>;
  readonly rejected: Counter<'transport' | 'reason'>;
  readonly closes: Counter<'reason'>;
  readonly connectionSeconds: Histogram;
  readonly fullStateRequests: Counter<'transport'>;
  readonly httpSessionChecks: Counter<'result'>;
  readonly uidsAssigned: Counter<'reason'>;
  readonly takeovers: Counter<'outcome'>;
  readonly redisErrors: Counter<'operation'>;
  readonly sendBackpressure: Counter<'result'>;
  readonly presenceFlushSeconds: Histogram;
  readonly presencePending: Gauge;
  readonly presenceDropped: Counter;
  readonly reannounces: Counter<'trigger'>;
  readonly reannounceConflicts: Counter;
  readonly keepaliveTouches: Counter;
  readonly events: Counter<'type'>;
  readonly eventsBuffered: Gauge;
  readonly eventsDropped: Counter;
  readonly eventAddErrors: Counter;
  readonly eventAddSeconds: Histogram;
}

/** Values the gauges read when scraped. */
export interface GaugeSources {
  /** Agents whose last-seen is buffered. */
  presencePending(): number;
  /** Events held by the event producer, not yet in Redis. */
  eventsBuffered(): number;
}

export function createGatewayMetrics(registry: Registry, sources: GaugeSources): GatewayMetrics {
  const registers = [registry];
  return {
    connections: new Gauge({
      name: 'opamp_gateway_connections',
      help: 'Connections held: open WebSockets (transport="ws") and in-flight plain HTTP requests (transport="http").',
      labelNames: ['transport'],
      registers,
    }),
    messages: new Counter({
      name: 'opamp_gateway_messages_total',
      help: 'AgentToServer messages handled, by kind: heartbeat, status, disconnect.',
      labelNames: ['transport', 'kind'],
      registers,
    }),
    decodeErrors: new Counter({
      name: 'opamp_gateway_decode_errors_total',
      help: 'Messages that could not be decoded, by error code (text frames count as code "text_frame").',
      labelNames: ['transport', 'code'],
      registers,
    }),
    rejected: new Counter({
      name: 'opamp_gateway_rejected_requests_total',
      help: 'Upgrades and HTTP requests refused before processing, by reason.',
      labelNames: ['transport', 'reason'],
      registers,
    }),
    connectionSeconds: new Histogram({
      name: 'opamp_agent_connection_duration_seconds',
      help: 'Lifetime of closed WebSocket connections that spoke for an agent, from upgrade to close; observed once per connection by the gateway that held it.',
      buckets: [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400, 259_200, 604_800],
      registers,
    }),
    closes: new Counter({
      name: 'opamp_gateway_ws_closes_total',
      help: 'WebSocket closes, by reason (the close the gateway decided, else idle_timeout, protocol_error, abnormal or peer).',
      labelNames: ['reason'],
      registers,
    }),
    fullStateRequests: new Counter({
      name: 'opamp_gateway_full_state_requests_total',
      help: 'Replies that asked the agent to report its full state (ReportFullState).',
      labelNames: ['transport'],
      registers,
    }),
    httpSessionChecks: new Counter({
      name: 'opamp_gateway_http_session_checks_failed_total',
      help: 'Plain-HTTP polls answered from the session cache whose deferred session check failed, by result: ended (the session had ended, a new one is opened) or stale (another seq in Redis, or none: the cached entry is dropped).',
      labelNames: ['result'],
      registers,
    }),
    uidsAssigned: new Counter({
      name: 'opamp_gateway_instance_uids_assigned_total',
      help: 'New instance_uids sent to agents, by reason: requested or duplicate.',
      labelNames: ['reason'],
      registers,
    }),
    takeovers: new Counter({
      name: 'opamp_gateway_duplicate_connections_total',
      help: 'Connections claiming an instance_uid another live connection held, by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    redisErrors: new Counter({
      name: 'opamp_gateway_redis_errors_total',
      help: 'Failed Redis operations (agents were answered anyway), by operation.',
      labelNames: ['operation'],
      registers,
    }),
    sendBackpressure: new Counter({
      name: 'opamp_gateway_ws_send_backpressure_total',
      help: 'WebSocket replies that were buffered behind backpressure or dropped.',
      labelNames: ['result'],
      registers,
    }),
    presenceFlushSeconds: new Histogram({
      name: 'opamp_gateway_presence_flush_duration_seconds',
      help: 'Duration of one coalesced last-seen write to Redis.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    presencePending: new Gauge({
      name: 'opamp_gateway_presence_pending',
      help: 'Agents whose last-seen is buffered, not yet written to Redis.',
      registers,
      collect() {
        this.set(sources.presencePending());
      },
    }),
    presenceDropped: new Counter({
      name: 'opamp_gateway_presence_dropped_total',
      help: 'Buffered last-seen entries dropped over PRESENCE_MAX_PENDING (Redis down too long).',
      registers,
    }),
    reannounces: new Counter({
      name: 'opamp_gateway_reannounces_total',
      help: 'Re-announces of every held connection, by trigger: interval or redis_epoch.',
      labelNames: ['trigger'],
      registers,
    }),
    keepaliveTouches: new Counter({
      name: 'opamp_gateway_keepalive_touches_total',
      help: 'Last-seen touches of held WebSockets whose agent does not report heartbeats (kept alive by the open socket).',
      registers,
    }),
    reannounceConflicts: new Counter({
      name: 'opamp_gateway_reannounce_conflicts_total',
      help: 'Held connections found owned by another connection on re-announce (closed as replaced).',
      registers,
    }),
    events: new Counter({
      name: 'opamp_gateway_events_total',
      help: 'Agent events handed to the event producer, by type: connection_opened, connection_closed, agent_state.',
      labelNames: ['type'],
      registers,
    }),
    eventsBuffered: new Gauge({
      name: 'opamp_gateway_events_buffered',
      help: 'Agent events held by the gateway, not yet in the queue (bounded by EVENT_MAX_BUFFERED).',
      registers,
      collect() {
        this.set(sources.eventsBuffered());
      },
    }),
    eventsDropped: new Counter({
      name: 'opamp_gateway_events_dropped_total',
      help: 'Agent events dropped: over EVENT_MAX_BUFFERED (Redis down too long) or left at shutdown.',
      registers,
    }),
    eventAddErrors: new Counter({
      name: 'opamp_gateway_event_add_errors_total',
      help: 'Failed or timed-out attempts to add event batches to the queue (the batches are retried).',
      registers,
    }),
    eventAddSeconds: new Histogram({
      name: 'opamp_gateway_event_add_duration_seconds',
      help: 'Duration of one successful add of event batches to the queue.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
  };
}
