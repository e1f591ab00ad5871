import { agentExists, pageConnectionHistory, pageTransitions } from '@opamp-fleet/db';
import type { FastifyInstance } from 'fastify';
import { decodeTimeCursor, decodeTransitionCursor, encodeCursor } from '../cursor.js';
import { ApiError } from '../errors.js';
import { collectPage } from '../page.js';
import { AGENT_ID_PARAMS, errorResponses, pageQuery } from '../schemas.js';
import { connectionRowView, transitionView } from '../views.js';
import { agentIdOf, type RouteContext } from './context.js';

interface PageQuery {
  limit: number;
  cursor?: string;
}

/** GET /api/v1/agents/:id/connection-history and GET /api/v1/agents/:id/transitions. */
export function historyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { maxPageSize, defaultPageSize } = ctx.config;
  const querystring = {
    type: 'object',
    properties: pageQuery(maxPageSize, defaultPageSize),
    additionalProperties: false,
  };

  /** Runs the page read next to the existence check; an unknown agent is a 404, not an empty page. */
  async function known<T>(id: string, read: Promise<T>): Promise<T> {
    const [exists, result] = await Promise.all([agentExists(ctx.db, id), read]);
    if (!exists) throw new ApiError(404, 'agent_not_found', `no agent ${id}`);
    return result;
  }

  app.get(
    '/api/v1/agents/:id/connection-history',
    {
      schema: {
        operationId: 'listConnectionHistory',
        tags: ['agents'],
        summary: "An agent's connections, newest first",
        description:
          'One row per connection (WebSocket or plain-HTTP session), by connected_at then connection id, descending; connections whose open is not recorded yet come last. Cursor-paginated.',
        params: AGENT_ID_PARAMS,
        querystring,
        response: { 200: { $ref: 'ConnectionPage#' }, ...errorResponses(400, 401, 404, 500) },
      },
    },
    async (request) => {
      const id = agentIdOf(request.params);
      const q = request.query as PageQuery;
      const after = q.cursor === undefined ? null : decodeTimeCursor('history', q.cursor);
      const page = await known(
        id,
        collectPage({
          limit: q.limit,
          after,
          fetch: (a, n) => pageConnectionHistory(ctx.db, id, { limit: n, after: a }),
          keep: async (rows) => rows,
          key: (r) => r.key,
        }),
      );
      return {
        items: page.items.map(connectionRowView),
        next_cursor: page.next ? encodeCursor('history', [page.next.us, page.next.id]) : null,
      };
    },
  );

  app.get(
    '/api/v1/agents/:id/transitions',
    {
      schema: {
        operationId: 'listTransitions',
        tags: ['agents'],
        summary: "An agent's status transitions, newest first",
        description: 'Every recorded status change (from, to, reason, who decided). Cursor-paginated.',
        params: AGENT_ID_PARAMS,
        querystring,
        response: { 200: { $ref: 'TransitionPage#' }, ...errorResponses(400, 401, 404, 500) },
      },
    },
    async (request) => {
      const id = agentIdOf(request.params);
      const q = request.query as PageQuery;
      const after = q.cursor === undefined ? null : decodeTransitionCursor(q.cursor);
      const page = await known(
        id,
        collectPage({
          limit: q.limit,
          after,
          fetch: (a, n) => pageTransitions(ctx.db, id, { limit: n, after: a }),
          keep: async (rows) => rows,
          key: (r) => r.key,
        }),
      );
      return {
        items: page.items.map(transitionView),
        next_cursor: page.next ? encodeCursor('transitions', [page.next.us, page.next.id]) : null,
      };
    },
  );
}
