import { getAgent, getAgentStatus } from '@opamp-fleet/db';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { deriveLiveness, type LivenessInput } from '../liveness.js';
import { AGENT_ID_PARAMS, errorResponses } from '../schemas.js';
import { agentView, connectionView, statusView } from '../views.js';
import { agentIdOf, cutoffOf, type RouteContext } from './context.js';

const notFound = (id: string) => new ApiError(404, 'agent_not_found', `no agent ${id}`);

/** GET /api/v1/agents/:id/status and GET /api/v1/agents/:id. */
export function agentRoutes(app: FastifyInstance, ctx: RouteContext): void {
  /** The row (as `read` gives it), Redis clock, last-seen score and owner of one agent, read concurrently. */
  async function readOne<Row extends LivenessInput>(
    id: string,
    read: (db: RouteContext['db'], id: string) => Promise<Row | null>,
  ) {
    const presence = ctx.presence();
    const [row, nowMs, scores, owner] = await Promise.all([
      read(ctx.db, id),
      presence.now(),
      presence.lastSeen([id]),
      presence.owner(id),
    ]);
    if (!row) throw notFound(id);
    const live = deriveLiveness(row, scores.get(id), cutoffOf(ctx, nowMs));
    return { row, live, owner, available: presence.available };
  }

  app.get(
    '/api/v1/agents/:id/status',
    {
      schema: {
        operationId: 'getAgentStatus',
        tags: ['agents'],
        summary: 'Read-time status of one agent',
        description:
          'Stored status corrected by the freshest last-seen (see `stale`), the connection timeline, and the gateway holding the agent when connected (connection registry).',
        params: AGENT_ID_PARAMS,
        response: { 200: { $ref: 'AgentStatus#' }, ...errorResponses(400, 401, 404, 500) },
      },
    },
    async (request) => {
      const { row, live, owner, available } = await readOne(agentIdOf(request.params), getAgentStatus);
      return { ...statusView(row, live), ...connectionView(owner), presence_available: available };
    },
  );

  app.get(
    '/api/v1/agents/:id',
    {
      schema: {
        operationId: 'getAgent',
        tags: ['agents'],
        summary: 'Full record of one agent',
        description:
          'Status (as /status), description, capabilities, health, effective config hash and connection bookkeeping.',
        params: AGENT_ID_PARAMS,
        response: { 200: { $ref: 'Agent#' }, ...errorResponses(400, 401, 404, 500) },
      },
    },
    async (request) => {
      const { row, live, owner, available } = await readOne(agentIdOf(request.params), getAgent);
      return { ...agentView(row, live, owner), presence_available: available };
    },
  );
}
