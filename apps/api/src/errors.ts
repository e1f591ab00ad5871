import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** One problem with the request, as listed in `error.details`. */
export interface ErrorDetail {
  location?: string;
  path?: string;
  message: string;
}

/** The one error body of the API: `{ error: { code, message, details? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

/**
 * An error answered to the client as is: an HTTP status, a stable `code` and a message safe to show.
 * Handlers throw it; the error handler turns it into an {@link ErrorBody}.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** Codes of the client errors Fastify raises itself (bad JSON, media type, body size). */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'unavailable',
};

export function errorBody(code: string, message: string, details?: ErrorDetail[]): ErrorBody {
  return { error: details ? { code, message, details } : { code, message } };
}

function validationDetails(err: FastifyError): ErrorDetail[] {
  return (err.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    const extra = params.missingProperty ?? params.additionalProperty;
    const path = typeof extra === 'string' ? `${v.instancePath}/${extra}` : v.instancePath || '/';
    const message =
      typeof extra === 'string' && params.additionalProperty ? `unknown parameter ${extra}` : v.message;
    return { location: err.validationContext ?? 'request', path, message: message ?? 'invalid' };
  });
}

/**
 * Installs the error and not-found handlers: every error leaves as an {@link ErrorBody}. Client
 * errors keep their status; anything else is a 500 whose message reveals nothing and whose cause is
 * logged.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) {
      if (err.statusCode >= 500) request.log.warn({ err, route: request.routeOptions.url }, err.message);
      return reply.code(err.statusCode).send(errorBody(err.code, err.message, err.details));
    }
    if (err.validation) {
      return reply.code(400).send(errorBody('bad_request', err.message, validationDetails(err)));
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send(errorBody(CODE_BY_STATUS[status] ?? 'client_error', err.message));
    }
    request.log.error({ err, route: request.routeOptions.url }, 'request failed');
    return reply.code(500).send(errorBody('internal', 'internal error'));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
