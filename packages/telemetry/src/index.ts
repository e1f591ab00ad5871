export { Counter, Gauge, Histogram, Registry } from 'prom-client';
export { createLogger, type Logger, type LoggerOptions, REDACTED_PATHS } from './logger.js';
export { createMetricsRegistry, type MetricsRegistryOptions } from './metrics.js';
export { type OpsServer, type OpsServerOptions, startOpsServer } from './ops-server.js';
export { exitOnCrash, stopOnSignals } from './process.js';
export { throttle } from './throttle.js';
