import { collectDefaultMetrics, Registry } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Added as the `service` label of every metric in the registry. */
  readonly service: string;
  /** Collect the default process metrics (CPU, memory, event-loop lag, handles). Default true. */
  readonly defaultMetrics?: boolean;
}

/**
 * Default metrics that prom-client exports as gauges named `_total`, which Prometheus naming (and
 * `promtool check metrics`) reserves for counters. Their per-type siblings (`nodejs_active_handles`,
 * ...) carry the same numbers: `sum()` them.
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/**
 * Creates the process's own prom-client registry (never the global one). Components define their
 * metrics on the registry they are given, once each. The exposition passes `promtool check metrics`.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
  }
  return registry;
}
