import type { IncomingMessage, ServerResponse } from 'node:http'

/** A REST answer before it is written: the shims return these, app.ts writes them. */
export interface RestResponse {
  status: number
  body: unknown
  headers?: Record<string, string>
  /** An unexpected failure behind this answer: app.ts logs it; it is never sent. */
  error?: unknown
}

/** Writes JSON with no-store caching; a HEAD request gets the same status and headers, no body. */
export function sendJson(req: IncomingMessage, res: ServerResponse, response: RestResponse): void {
  const payload = Buffer.from(JSON.stringify(response.body))
  res.writeHead(response.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': payload.length,
    'cache-control': 'no-store',
    ...response.headers,
  })
  res.end(req.method === 'HEAD' ? undefined : payload)
}

export const notFound: RestResponse = { status: 404, body: { error: 'Not Found', code: 'NOT_FOUND' } }

export const internalError: RestResponse = {
  status: 500,
  body: { error: 'Internal Server Error', code: 'INTERNAL_SERVER_ERROR' },
}

export function methodNotAllowed(allow: string): RestResponse {
  return {
    status: 405,
    body: { error: 'Method Not Allowed', code: 'METHOD_NOT_ALLOWED' },
    headers: { allow },
  }
}
