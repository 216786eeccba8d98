import type { IncomingMessage, ServerResponse } from 'node:http'

/** A REST answer before it is written: the shims return these, app.ts writes them. */
export interface RestResponse {
  status: number
  /** Sent as JSON, unless `text` is given. */
  body?: unknown
  /** Sent as is, with the content-type from `headers`. */
  text?: string
  headers?: Record<string, string>
  /** An unexpected failure behind this answer: app.ts logs it; it is never sent. */
  error?: unknown
}

/** Writes the answer with no-store caching; a HEAD request gets the same status and headers, no body. */
export function send(req: IncomingMessage, res: ServerResponse, response: RestResponse): void {
  const isText = response.text !== undefined
  const payload = Buffer.from(isText ? (response.text ?? '') : JSON.stringify(response.body))
  res.writeHead(response.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
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
