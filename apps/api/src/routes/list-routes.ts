import {
  type AgentStatus,
  type AgentSummaryRow,
  type AttributeFilter,
  type OfflinePageRow,
  pageAgents,
  pageOfflineAgents,
  type StaleCandidates,
  type TimeKey,
} from '@opamp-fleet/db';
import type { FastifyInstance } from 'fastify';
import { decodeIdCursor, decodeTimeCursor, encodeCursor } from '../cursor.js';
import { ApiError } from '../errors.js';
import { deriveLiveness, STALE_REASON } from '../liveness.js';
import { collectPage } from '../page.js';
import type { PresenceRequest } from '../presence-reader.js';
import { errorResponses, MAX_ATTRIBUTE_FILTERS, pageQuery } from '../schemas.js';
import { offlineAgentView, summaryView } from '../views.js';
import { cutoffOf, type RouteContext } from './context.js';

const ATTR_PREFIX = 'attr.';

/** The `attr.<key>=<value>` parameters of a query, at most {@link MAX_ATTRIBUTE_FILTERS}. */
export function attributeFilters(query: Record<string, unknown>): AttributeFilter[] {
  const filters = Object.entries(query)
    .filter(([name]) => name.startsWith(ATTR_PREFIX))
    .map(([name, value]) => ({ key: name.slice(ATTR_PREFIX.length), value: String(value) }));
  if (filters.length > MAX_ATTRIBUTE_FILTERS) {
    throw new ApiError(400, 'bad_request', `at most ${MAX_ATTRIBUTE_FILTERS} attr.<key> filters per request`);
  }
  return filters;
}

/** GET /api/v1/agents and GET /api/v1/agents/offline. */
export function listRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { maxPageSize, defaultPageSize, offlineTimeoutSeconds } = ctx.config;

  app.get(
    '/api/v1/agents',
    {
      schema: {
        operationId: 'listAgents',
        tags: ['agents'],
        summary: 'Agents by id, filtered by read-time status and attributes',
        description: [
          'Cursor-paginated in id order. `status` filters on the read-time status (a stale agent is `offline`).',
          'Attribute filters: `attr.<key>=<value>` (e.g. `attr.service.name=checkout`) matches agents whose identifying',
          `or non-identifying attributes hold that key with that string value; up to ${MAX_ATTRIBUTE_FILTERS}, all must match.`,
          'A page can hold fewer than `limit` items while `next_cursor` is set (rows dropped by the read-time check).',
        ].join(' '),
        querystring: {
          type: 'object',
          properties: {
            ...pageQuery(maxPageSize, defaultPageSize),
            status: {
              type: 'string',
              enum: ['online', 'offline', 'error'],
              description: 'Read-time status.',
            },
          },
          patternProperties: { '^attr\\..{1,256}$': { type: 'string', maxLength: 1024 } },
          additionalProperties: false,
        },
        response: { 200: { $ref: 'AgentPage#' }, ...errorResponses(400, 401, 500) },
      },
    },
    async (request) => {
      const q = request.query as { limit: number; cursor?: string; status?: AgentStatus } & Record<
        string,
        unknown
      >;
      const attributes = attributeFilters(q);
      const afterId = q.cursor === undefined ? null : decodeIdCursor(q.cursor);
      const presence = ctx.presence();
      const cutoff = cutoffOf(ctx, await presence.now());
      const page = await collectPage({
        limit: q.limit,
        after: afterId,
        fetch: (after, n) =>
          pageAgents(ctx.db, {
            limit: n,
            afterId: after,
            ...(q.status ? { status: q.status } : {}),
            ...(q.status === 'offline' ? { staleBeforeMs: cutoff } : {}),
            attributes,
          }),
        keep: async (rows: AgentSummaryRow[]) => {
          const scores = await presence.lastSeen(rows.map((r) => r.id));
          return rows
            .map((r) => ({ row: r, live: deriveLiveness(r, scores.get(r.id), cutoff) }))
            .filter((x) => q.status === undefined || x.live.status === q.status);
        },
        key: (r) => r.id,
      });
      return {
        items: page.items.map((x) => summaryView(x.row, x.live)),
        next_cursor: page.next === null ? null : encodeCursor('agents', [page.next]),
        presence_available: presence.available,
      };
    },
  );

  app.get(
    '/api/v1/agents/offline',
    {
      schema: {
        operationId: 'listOfflineAgents',
        tags: ['agents'],
        summary: 'Offline agents, most recently offline first',
        description: [
          'Agents stored offline (by status_changed_at, then id) merged with stale agents (stored online, not seen',
          `within OFFLINE_TIMEOUT_SECONDS, reason \`${STALE_REASON}\`, offline since last-seen + timeout); agents whose`,
          'offline time is unknown come last. Cursor-paginated; `since` and `reason` filter.',
        ].join(' '),
        querystring: {
          type: 'object',
          properties: {
            ...pageQuery(maxPageSize, defaultPageSize),
            since: {
              type: 'string',
              format: 'date-time',
              description: 'Only agents offline since this time or later (RFC 3339).',
            },
            reason: {
              type: 'string',
              minLength: 1,
              maxLength: 128,
              description: `Only agents offline for this reason (e.g. \`agent_disconnect\`, \`${STALE_REASON}\`).`,
            },
          },
          additionalProperties: false,
        },
        response: { 200: { $ref: 'OfflineAgentPage#' }, ...errorResponses(400, 401, 500) },
      },
    },
    async (request) => {
      const q = request.query as { limit: number; cursor?: string; since?: string; reason?: string };
      const after = q.cursor === undefined ? null : decodeTimeCursor('offline', q.cursor);
      const presence = ctx.presence();
      const cutoff = cutoffOf(ctx, await presence.now());
      const timeoutMs = offlineTimeoutSeconds * 1000;
      const filters = {
        ...(q.since === undefined ? {} : { sinceMs: Date.parse(q.since) }),
        ...(q.reason === undefined ? {} : { reason: q.reason }),
      };
      const withStale = q.reason === undefined || q.reason === STALE_REASON;
      const page = await collectPage({
        limit: q.limit,
        after,
        fetch: (a, n) =>
          withStale
            ? fetchWithStale(ctx, presence, { after: a, limit: n, cutoff, timeoutMs, filters })
            : pageOfflineAgents(ctx.db, { limit: n, after: a, ...filters }),
        keep: async (rows: OfflinePageRow[]) => {
          const scores = await presence.lastSeen(rows.map((r) => r.agent.id));
          return rows
            .map((r) => ({ r, live: deriveLiveness(r.agent, scores.get(r.agent.id), cutoff) }))
            .filter((x) => x.live.status !== 'online');
        },
        key: (r) => r.key,
      });
      return {
        items: page.items.map(({ r, live }) => offlineAgentView(r.agent, live, r.offlineSince)),
        next_cursor: page.next === null ? null : encodeCursor('offline', [page.next.us, page.next.id]),
        presence_available: presence.available,
      };
    },
  );
}

interface OfflineFetch {
  after: TimeKey | null;
  limit: number;
  cutoff: number;
  timeoutMs: number;
  filters: { sinceMs?: number; reason?: string };
}

/**
 * Up to `limit` rows of the offline listing after `after`: stored-offline agents merged with stale
 * ones, whose candidates are the expired entries of the Redis last-seen set (a stale agent is
 * listed at score + timeout). The set is read in windows from the highest score down: rows keyed at
 * or above the window's floor + timeout are final, so a page whose end lies below the floor is
 * read again with a window four times as large. Without Redis, Postgres scans its online agents.
 */
async function fetchWithStale(
  ctx: RouteContext,
  presence: PresenceRequest,
  o: OfflineFetch,
): Promise<OfflinePageRow[]> {
  const stale = { beforeMs: o.cutoff, timeoutMs: o.timeoutMs, reason: STALE_REASON };
  const { sinceMs } = o.filters;
  const read = (candidates?: StaleCandidates) =>
    pageOfflineAgents(ctx.db, {
      limit: o.limit,
      after: o.after,
      stale: candidates ? { ...stale, candidates } : stale,
      ...o.filters,
    });
  if (o.after?.us === null) return read({ ids: [], seenMs: [] }); // past every timed row
  for (let windowSize = o.limit; ; windowSize *= 4) {
    const window = await presence.expired({
      belowMs: o.cutoff,
      ...(o.after ? { atMostMs: o.after.us! / 1000 - o.timeoutMs } : {}),
      ...(sinceMs === undefined ? {} : { atLeastMs: sinceMs - o.timeoutMs }),
      limit: windowSize,
    });
    if (window === null) return read();
    const rows = await read(window);
    if (window.floorMs === null) return rows;
    const finalUs = (window.floorMs + o.timeoutMs) * 1000;
    let final = 0;
    while (final < rows.length && rows[final]!.key.us !== null && rows[final]!.key.us! >= finalUs) final++;
    if (final === o.limit) return rows;
  }
}
