import { collectDefaultMetrics, Registry } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Added as the `service` label of every metric in the registry. */
  readonly service: string;
  /** Collect the default process metrics (CPU, memory, event-loop lag, handles). Default true. */
  readonly defaultMetrics?: boolean;
}

/**
 * Creates the process's own prom-client registry (never the global one). Components define their
 * metrics on the registry they are given, once each.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}
