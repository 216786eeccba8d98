import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The whole body of an admitted request must arrive within `timeoutMs` of its headers (HTTP_BODY_TIMEOUT_MS):
 * a minimum average rate of GRAPHQL_MAX_BODY_BYTES per timeout, like nginx's client_body_timeout but
 * for the whole body, so a client sending a byte every 2 s cannot hold a GraphQL slot for the whole
 * HTTP_REQUEST_TIMEOUT_MS. Past it the client gets 408, as for Node's own request timeout, and the
 * connection is closed, which ends the request's wait for its body.
 */
export function enforceBodyDeadline(req: IncomingMessage, res: ServerResponse, timeoutMs: number): void {
  if (req.complete || (req.headers['content-length'] ?? '0') === '0') return
  let timer: NodeJS.Timeout
  const rearm = () => {
    timer = setTimeout(() => setImmediate(expire), timeoutMs)
    timer.unref()
  }
  // Judged after the loop has polled the sockets (setImmediate), so that bytes which arrived while it
  // was busy are read first: a late timer must not blame the client for our lateness.
  const expire = () => {
    if (req.complete || res.destroyed) return
    // A full buffer means we have not read what the client sent (Node then stops reading the socket):
    // the slowness is ours, under load, not the client's. Look again after another period.
    if (req.readableLength >= req.readableHighWaterMark) return rearm()
    const socket = req.socket
    if (res.headersSent || !socket.writable) return void socket.destroy()
    socket.end(REQUEST_TIMEOUT, () => socket.destroy())
  }
  rearm()
  res.once('close', () => clearTimeout(timer))
}

// As Node's own request timeout answers, word for word.
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n'
