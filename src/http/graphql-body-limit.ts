import type { IncomingMessage } from 'node:http'
import type { RestResponse } from './respond.js'

/**
 * How much of a refused body is still read (and thrown away) after the answer. A client or proxy that
 * sends the whole body before reading the answer (nginx does) would otherwise hit a reset while sending,
 * and report that (nginx: 502) instead of our 413. 1 MB matches the body limit of deploy/nginx.
 */
export const REFUSED_BODY_DRAIN_BYTES = 1024 * 1024

/**
 * Refuses a POST whose body is over the limit before parsing it, and starts discarding that body (see
 * drainOrClose). Bodies must declare their length: a chunked body could otherwise grow without bound
 * before anyone could tell.
 */
export function bodyLimitResponse(req: IncomingMessage, maxBytes: number): RestResponse | undefined {
  if (req.method !== 'POST') return undefined
  const declared = req.headers['content-length']
  if (declared === undefined) {
    return {
      status: 411,
      body: { error: 'Length Required', code: 'LENGTH_REQUIRED' },
      headers: drainOrClose(req),
    }
  }
  if (Number(declared) > maxBytes) {
    return {
      status: 413,
      body: { error: `Request body larger than ${maxBytes} bytes`, code: 'PAYLOAD_TOO_LARGE' },
      headers: drainOrClose(req),
    }
  }
  return undefined
}

/**
 * Reads and discards the refused body, up to REFUSED_BODY_DRAIN_BYTES, so the connection stays usable;
 * a body that declares more is not read at all and the connection closes after the answer. A chunked
 * body that turns out larger is cut at the limit.
 */
export function drainOrClose(req: IncomingMessage): Record<string, string> {
  if (Number(req.headers['content-length'] ?? 0) > REFUSED_BODY_DRAIN_BYTES) return { connection: 'close' }
  let received = 0
  req.on('data', (chunk: Buffer) => {
    received += chunk.length
    if (received > REFUSED_BODY_DRAIN_BYTES) req.socket.destroy()
  })
  return {}
}
