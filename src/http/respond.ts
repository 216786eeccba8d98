import type { IncomingMessage, ServerResponse } from 'node:http'
import { gzipSync } from 'node:zlib'
import { acceptsGzip } from './compression.js'

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

// Smaller answers (the seed's /health and /number_of_tables among them) are always sent as they are.
const COMPRESS_FROM_BYTES = 1024

/**
 * Writes the answer with no-store caching; a HEAD request gets the same status and headers, no body.
 * Answers of 1 KB and more (/metrics, /openapi.json, health+json) are gzipped for clients that accept it.
 */
export function send(req: IncomingMessage, res: ServerResponse, response: RestResponse): void {
  const isText = response.text !== undefined
  const isEmpty = !isText && response.body === undefined
  let payload = Buffer.from(isText ? (response.text ?? '') : isEmpty ? '' : seedJson(response.body))
  const headers: Record<string, string | number> = {
    ...(isEmpty ? {} : { 'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json' }),
    'cache-control': 'no-store',
    ...response.headers,
  }
  if (payload.length >= COMPRESS_FROM_BYTES) {
    headers.vary = response.headers?.vary ? `${response.headers.vary}, Accept-Encoding` : 'Accept-Encoding'
    if (acceptsGzip(req.headers['accept-encoding'])) {
      // At most a few tens of KB (metrics): well under a millisecond of the event loop.
      payload = gzipSync(payload)
      headers['content-encoding'] = 'gzip'
    }
  }
  // A 304 must not say Content-Length: 0, which would be the length of the document it stands for.
  if (response.status !== 304) headers['content-length'] = payload.length
  res.writeHead(response.status, headers)
  res.end(req.method === 'HEAD' ? undefined : payload)
}

/**
 * JSON as the seed's Flask `jsonify` wrote it, so scripts that compare bytes keep working: keys sorted,
 * compact separators, and a closing newline. (`application/json` has no charset: JSON is UTF-8.)
 */
export function seedJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  )}\n`
}

/** The answer to OPTIONS on a REST route, as the seed gave it: 200, the methods in `Allow`, no body. */
export function options(allow: string): RestResponse {
  return { status: 200, headers: { allow } }
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
