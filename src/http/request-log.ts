import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'

// Orchestrators and Prometheus call these every few seconds: logged at debug level, not info.
const PROBE_ROUTES = new Set(['/livez', '/readyz', '/metrics'])
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/

/**
 * Gives the request an id (the caller's x-request-id when it is sane, else a new UUID), echoes it, and
 * when the response ends writes one log line and one metrics sample. `route` must come from a fixed set.
 */
export function trackRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  { logger, metrics }: { logger: Logger; metrics: Metrics },
): string {
  const started = performance.now()
  const method = req.method
  const incoming = req.headers['x-request-id']
  const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
  res.setHeader('x-request-id', requestId)

  res.once('close', () => {
    const seconds = (performance.now() - started) / 1000
    const status = res.writableFinished ? res.statusCode : 499 // 499: the client went away first
    metrics.observeRequest(method, route, status, seconds)
    const line = { requestId, method, route, status, durationMs: Math.round(seconds * 100_000) / 100 }
    if (PROBE_ROUTES.has(route)) logger.debug(line, 'request')
    else logger.info(line, 'request')
  })
  return requestId
}
