import http from 'node:http'
import https from 'node:https'
import type { Config } from './config.js'

export type ServerOptions = Pick<
  Config,
  'tls' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'
>

/**
 * The HTTP (or, with TLS_CERT_FILE/TLS_KEY_FILE, HTTPS) server, bounded against slow and idle clients:
 * headers must arrive within headersTimeoutMs and the whole request within requestTimeoutMs, whatever the
 * client trickles; idle keep-alive connections close after keepAliveTimeoutMs.
 */
export function createHttpServer(options: ServerOptions, handler: http.RequestListener): http.Server {
  const headersTimeout = Math.min(options.headersTimeoutMs, options.requestTimeoutMs)
  const limits = {
    headersTimeout,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    maxHeaderSize: 16 * 1024,
  }
  const server = options.tls
    ? https.createServer({ ...limits, cert: options.tls.cert, key: options.tls.key }, handler)
    : http.createServer(limits, handler)
  server.keepAliveTimeout = options.keepAliveTimeoutMs
  // Node drops a CONNECT request without a word unless someone listens; this is not a proxy.
  server.on('connect', (_req, socket) => {
    socket.end(
      'HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    )
  })
  return server
}
