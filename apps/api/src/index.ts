export { type Api, type ApiDeps, createApi, OPENAPI_PATH } from './api.js';
export { ApiError, type ErrorBody, type ErrorDetail } from './errors.js';
export { deriveLiveness, type Liveness, type LivenessInput, STALE_REASON } from './liveness.js';
export type { ApiMetrics } from './metrics.js';
