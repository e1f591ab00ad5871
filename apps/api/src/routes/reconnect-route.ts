import { agentExists } from '@opamp-fleet/db';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { AGENT_ID_PARAMS, errorResponses } from '../schemas.js';
import { agentIdOf, type RouteContext } from './context.js';

/**
 * POST /api/v1/agents/:id/reconnect: asks the gateway holding the agent to close its connection
 * with reason `reconnect_requested`; the agent reconnects by itself. The API writes nothing: the
 * gateway's close event records the history like any other close.
 */
export function reconnectRoute(app: FastifyInstance, ctx: RouteContext): void {
  const unavailable = (err: unknown): never => {
    ctx.metrics.reconnects.inc({ result: 'unavailable' });
    throw new ApiError(
      503,
      'unavailable',
      'Redis is unavailable: the command cannot be delivered',
      undefined,
      err,
    );
  };

  app.post(
    '/api/v1/agents/:id/reconnect',
    {
      schema: {
        operationId: 'reconnectAgent',
        tags: ['agents'],
        summary: 'Make an agent reconnect',
        description: [
          'Looks the agent up in the connection registry and sends its gateway a close command (reason',
          '`reconnect_requested`) over the command channel. 202 once a gateway received it; 404 for an agent with',
          'neither a record nor a connection; 409 when it is not connected or its gateway does not listen.',
        ].join(' '),
        params: AGENT_ID_PARAMS,
        response: { 202: { $ref: 'ReconnectAccepted#' }, ...errorResponses(400, 401, 404, 409, 500, 503) },
      },
    },
    async (request, reply) => {
      const id = agentIdOf(request.params);
      const owner = await ctx.registry.lookup(id).catch(unavailable);
      if (owner === null) {
        if (!(await agentExists(ctx.db, id))) {
          ctx.metrics.reconnects.inc({ result: 'unknown_agent' });
          throw new ApiError(404, 'agent_not_found', `no agent ${id}`);
        }
        ctx.metrics.reconnects.inc({ result: 'not_connected' });
        throw new ApiError(409, 'not_connected', `agent ${id} is not connected`);
      }
      const receivers = await ctx.bus
        .send(owner.gatewayId, {
          type: 'close',
          agentId: id,
          connectionId: owner.connectionId,
          reason: 'reconnect_requested',
        })
        .catch(unavailable);
      if (receivers === 0) {
        ctx.metrics.reconnects.inc({ result: 'not_connected' });
        throw new ApiError(
          409,
          'not_connected',
          `gateway ${owner.gatewayId} holding agent ${id} is not listening`,
        );
      }
      ctx.metrics.reconnects.inc({ result: 'delivered' });
      return reply.code(202).send({
        id,
        gateway_id: owner.gatewayId,
        connection_id: owner.connectionId,
        receivers,
      });
    },
  );
}
