import type { Plugin, YogaServerOptions } from 'graphql-yoga'

type CorsOption = YogaServerOptions<Record<string, never>, Record<string, never>>['cors']

/**
 * CORS for /graphql: off unless CORS_ORIGINS lists origins, and then only those, never with credentials
 * (yoga's default answers any Origin with itself and allow-credentials, so every web page a visitor
 * opens could read the API through their browser). An unlisted origin gets no CORS headers at all;
 * `null` (sandboxed frames, file: pages) is never allowed.
 */
export function corsOptions(origins: readonly string[]): CorsOption {
  if (origins.length === 0) return false
  return (request: Request) => {
    const origin = request.headers.get('origin')
    if (!origin || !origins.includes(origin)) return false
    return {
      origin,
      credentials: false,
      methods: ['GET', 'POST'],
      // authorization: the bearer token, when AUTH_TOKEN_FILE sets one (a header, not a credential in CORS's sense).
      allowedHeaders: ['content-type', 'accept', 'x-request-id', 'authorization'],
      exposedHeaders: ['x-request-id'],
      maxAge: 600,
    }
  }
}

/** With an allow-list, answers differ by Origin: caches must keep them apart. */
export function useVaryOrigin(origins: readonly string[]): Plugin {
  if (origins.length === 0) return {}
  return {
    onResponse({ response }) {
      response.headers.append('vary', 'Origin')
    },
  }
}
