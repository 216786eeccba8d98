import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { drainOrClose } from './graphql-body-limit.js'
import type { Route } from './request-listener.js'
import { type RestResponse, send } from './respond.js'

/** The realm in `WWW-Authenticate`: what a client shows a person who must find the token. */
export const AUTH_REALM = 'ctera-app'

/** The requests anyone may make, token or not: the seed's routes, the probes (app.ts says which). */
export type IsPublic = (req: IncomingMessage, path: string) => boolean

/**
 * With a token (AUTH_TOKEN_FILE), a route that answers only requests carrying `Authorization: Bearer
 * <token>`, but for those `isPublic` lets through; without one, the route itself, unchanged. Every path
 * goes through here, so a route added later is guarded unless it is named public.
 */
export function requireBearerToken(route: Route, token: string | undefined, isPublic: IsPublic): Route {
  if (token === undefined) return route
  const expected = digest(token)
  return async (req, res, path) => {
    if (isPublic(req, path)) return route(req, res, path)
    const presented = bearerToken(req.headers.authorization)
    // Digests have one length whatever the client sends, so the comparison takes the same time for
    // every wrong token: its length and its first right characters stay unknown.
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return route(req, res, path)
    // The body (if any) is read and thrown away, as for a 413, so a client that sends it whole first gets the 401.
    const refused = unauthorized(presented !== undefined)
    send(req, res, { ...refused, headers: { ...refused.headers, ...drainOrClose(req) } })
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

/** The token of `Authorization: Bearer <token>` (the scheme's case does not matter, RFC 9110 11.1). */
function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^bearer +(\S+) *$/i)
  return match?.[1]
}

/**
 * 401 with the challenge RFC 6750 asks for: no error code when no token came, `invalid_token` when a
 * wrong one did. Neither says which routes exist or what they hold.
 */
function unauthorized(tokenPresented: boolean): RestResponse {
  return tokenPresented
    ? {
        status: 401,
        body: { error: 'The bearer token is not valid.', code: 'UNAUTHORIZED' },
        headers: { 'www-authenticate': `Bearer realm="${AUTH_REALM}", error="invalid_token"` },
      }
    : {
        status: 401,
        body: { error: 'A bearer token is required.', code: 'UNAUTHORIZED' },
        headers: { 'www-authenticate': `Bearer realm="${AUTH_REALM}"` },
      }
}
