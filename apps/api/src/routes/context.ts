import type { ApiConfig } from '@opamp-fleet/config';
import type { Db } from '@opamp-fleet/db';
import type { CommandBus, ConnectionRegistry } from '@opamp-fleet/presence';
import type { ApiMetrics } from '../metrics.js';
import type { PresenceRequest } from '../presence-reader.js';

/** What route handlers share. */
export interface RouteContext {
  config: ApiConfig;
  db: Db;
  /** A fresh set of Redis reads for one request. */
  presence(): PresenceRequest;
  registry: ConnectionRegistry;
  bus: CommandBus;
  metrics: ApiMetrics;
}

/** The agent id of a validated `:id` parameter, in canonical (lower) case. */
export function agentIdOf(params: unknown): string {
  return (params as { id: string }).id.toLowerCase();
}

/** now - OFFLINE_TIMEOUT_SECONDS: agents not seen since are stale. */
export function cutoffOf(ctx: RouteContext, nowMs: number): number {
  return nowMs - ctx.config.offlineTimeoutSeconds * 1000;
}
