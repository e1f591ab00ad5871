import { Counter, Histogram, type Registry } from '@opamp-fleet/telemetry';

/** Metrics of the API, defined once on the process's registry. No label carries an agent id. */
export interface ApiMetrics {
  /** Labels: route (the route template, `unmatched` for unknown paths), method, status. */
  requestDuration: Histogram<'route' | 'method' | 'status'>;
  /** Label result: delivered, not_connected, unknown_agent, unavailable. */
  reconnects: Counter<'result'>;
  /** Requests answered without Redis (read-time status from Postgres alone). */
  presenceFallbacks: Counter;
}

export function createApiMetrics(registry: Registry): ApiMetrics {
  return {
    requestDuration: new Histogram({
      name: 'opamp_api_request_duration_seconds',
      help: 'REST API request duration, by route template, method and status code.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    reconnects: new Counter({
      name: 'opamp_api_reconnect_requests_total',
      help: 'Reconnect requests by result: delivered, not_connected, unknown_agent, unavailable.',
      labelNames: ['result'],
      registers: [registry],
    }),
    presenceFallbacks: new Counter({
      name: 'opamp_api_presence_fallbacks_total',
      help: 'Requests whose Redis reads failed and that were answered from Postgres alone.',
      registers: [registry],
    }),
  };
}
