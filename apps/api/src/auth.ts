import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { errorBody } from './errors.js';

/** Realm announced in WWW-Authenticate. */
export const AUTH_REALM = 'opamp-fleet-api';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * A bearer-token check over a fixed set of tokens. Tokens are kept only as SHA-256 digests and
 * compared with `timingSafeEqual` against every configured digest (no early exit), so neither the
 * time taken nor anything logged reveals a token or its length.
 */
export function createTokenCheck(tokens: readonly string[]): (presented: string) => boolean {
  const digests = tokens.map(digest);
  return (presented) => {
    const d = digest(presented);
    let ok = false;
    for (const t of digests) ok = timingSafeEqual(t, d) || ok;
    return ok;
  };
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/**
 * An onRequest hook answering 401 (with `WWW-Authenticate: Bearer`) unless the request carries one
 * of `tokens`. With no tokens it lets every request through. Callback style: an accepted request
 * continues without a promise per request.
 */
export function bearerAuthHook(tokens: readonly string[]) {
  const check = createTokenCheck(tokens);
  const enabled = tokens.length > 0;
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const token = enabled ? bearerToken(request.headers.authorization) : null;
    if (!enabled || (token !== null && check(token))) {
      done();
      return;
    }
    const challenge =
      token === null ? `Bearer realm="${AUTH_REALM}"` : `Bearer realm="${AUTH_REALM}", error="invalid_token"`;
    reply
      .code(401)
      .header('www-authenticate', challenge)
      .send(
        errorBody('unauthorized', token === null ? 'a bearer token is required' : 'invalid bearer token'),
      );
  };
}
