import { countAgentsByStatus, countStaleOnline, listStaleOnline } from '@opamp-fleet/db';
import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../schemas.js';
import { cutoffOf, type RouteContext } from './context.js';

/** Most stale candidates of one summary checked against Redis; beyond them Postgres' view counts. */
export const SUMMARY_STALE_CHECK_LIMIT = 10_000;

/** GET /api/v1/fleet/summary. */
export function fleetRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get(
    '/api/v1/fleet/summary',
    {
      schema: {
        operationId: 'getFleetSummary',
        tags: ['fleet'],
        summary: 'Agents by read-time status',
        description: [
          'Counts by stored status (one index-only pass), corrected by the stale agents: stored online but not seen',
          'within OFFLINE_TIMEOUT_SECONDS, found by a scan of the online agents in Postgres and re-checked against the',
          `Redis last-seen set (at most ${SUMMARY_STALE_CHECK_LIMIT}; beyond, Postgres alone decides and \`approximate\` is true).`,
        ].join(' '),
        response: { 200: { $ref: 'FleetSummary#' }, ...errorResponses(401, 500) },
      },
    },
    async () => {
      const presence = ctx.presence();
      const nowMs = await presence.now();
      const cutoff = cutoffOf(ctx, nowMs);
      const [stored, candidates] = await Promise.all([
        countAgentsByStatus(ctx.db),
        listStaleOnline(ctx.db, { beforeMs: cutoff, limit: SUMMARY_STALE_CHECK_LIMIT + 1 }),
      ]);
      const approximate = candidates.length > SUMMARY_STALE_CHECK_LIMIT;
      const checked = candidates.slice(0, SUMMARY_STALE_CHECK_LIMIT);
      const scores = await presence.lastSeen(checked.map((c) => c.agentId));
      let stale = checked.filter((c) => Math.max(scores.get(c.agentId) ?? 0, c.freshestMs) < cutoff).length;
      if (approximate) stale += (await countStaleOnline(ctx.db, cutoff)) - checked.length;
      stale = Math.min(stale, stored.online);
      return {
        total: stored.online + stored.offline + stored.error,
        counts: { online: stored.online - stale, offline: stored.offline + stale, error: stored.error },
        stored_counts: stored,
        stale_online: stale,
        approximate,
        offline_timeout_seconds: ctx.config.offlineTimeoutSeconds,
        as_of: new Date(nowMs).toISOString(),
        presence_available: presence.available,
      };
    },
  );
}
