import type { IncomingMessage } from 'node:http'
import type { RestResponse } from './respond.js'

/**
 * Refuses a POST whose body is over the limit before reading it. Bodies must declare their length:
 * a chunked body could otherwise grow without bound before anyone could tell.
 */
export function bodyLimitResponse(req: IncomingMessage, maxBytes: number): RestResponse | undefined {
  if (req.method !== 'POST') return undefined
  const declared = req.headers['content-length']
  // Answering before the body is read: the connection cannot be reused for another request.
  const headers = { connection: 'close' }
  if (declared === undefined) {
    return { status: 411, body: { error: 'Length Required', code: 'LENGTH_REQUIRED' }, headers }
  }
  if (Number(declared) > maxBytes) {
    return {
      status: 413,
      body: { error: `Request body larger than ${maxBytes} bytes`, code: 'PAYLOAD_TOO_LARGE' },
      headers,
    }
  }
  return undefined
}
