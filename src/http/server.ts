import http from 'node:http'
import https from 'node:https'
import type { Config } from '../config/load-config.js'
import { answerClientError } from './client-error.js'
import { clientShare } from './client-share.js'
import { limitConnections } from './connection-limit.js'

export type ServerOptions = Pick<
  Config,
  | 'tls'
  | 'headersTimeoutMs'
  | 'requestTimeoutMs'
  | 'keepAliveTimeoutMs'
  | 'maxConnections'
  | 'clientSharePercent'
  | 'trustedProxies'
>

/**
 * HTTPS: TLS 1.2 with forward-secret (ECDHE) AEAD suites only, and TLS 1.3 (all of whose suites are).
 * Node's default list also offers plain-RSA and CBC suites such as AES128-SHA, without forward secrecy.
 */
export const HTTPS_POLICY = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
} as const

/**
 * The HTTP (or, with TLS_CERT_FILE/TLS_KEY_FILE, HTTPS) server, bounded against slow and idle clients:
 * headers must arrive within headersTimeoutMs and the whole request within requestTimeoutMs, whatever the
 * client trickles; idle keep-alive connections close after keepAliveTimeoutMs. Open connections are
 * bounded in total and per client address (http/connection-limit.ts).
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
    ? https.createServer(
        { ...limits, ...HTTPS_POLICY, cert: options.tls.cert, key: options.tls.key },
        handler,
      )
    : http.createServer(limits, handler)
  server.keepAliveTimeout = options.keepAliveTimeoutMs
  limitConnections(server, {
    maxConnections: options.maxConnections,
    perClient: clientShare(options.maxConnections, options.clientSharePercent),
    trustedProxies: options.trustedProxies,
  })
  server.on('clientError', answerClientError)
  // Node drops a CONNECT request without a word unless someone listens; this is not a proxy.
  server.on('connect', (_req, socket) => {
    socket.end(
      'HTTP/1.1 405 Method Not Allowed\r\nallow: GET, HEAD, POST\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    )
  })
  return server
}
