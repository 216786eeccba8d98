import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../logger.js'
import type { Metrics } from '../service-metrics.js'
import { type ServerSpan, startServerSpan } from '../telemetry/spans.js'

// Orchestrators and Prometheus call these every few seconds: logged at debug level, not info.
const PROBE_ROUTES = new Set(['/livez', '/readyz', '/metrics'])
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/

/**
 * Gives the request an id (the caller's x-request-id when it is sane, else a new UUID), echoes it, and
 * when the response ends writes one log line and one metrics sample. `route` must come from a fixed set.
 * With tracing on, it also opens the request's server span: the log line carries its traceId and spanId,
 * and the span carries the request id, so either leads to the other.
 */
export function trackRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  { logger, metrics }: { logger: Logger; metrics: Metrics },
): { requestId: string; traceContext: ServerSpan['context'] | undefined } {
  const started = performance.now()
  const method = req.method
  const incoming = req.headers['x-request-id']
  const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
  res.setHeader('x-request-id', requestId)
  const span = startServerSpan(req, route, requestId)

  res.once('close', () => {
    const seconds = (performance.now() - started) / 1000
    const status = res.writableFinished ? res.statusCode : 499 // 499: the client went away first
    metrics.observeRequest(method, route, status, seconds)
    span?.end(status)
    const line = {
      requestId,
      method,
      route,
      status,
      durationMs: Math.round(seconds * 100_000) / 100,
      ...(span ? { traceId: span.traceId, spanId: span.spanId } : {}),
    }
    if (PROBE_ROUTES.has(route)) logger.debug(line, 'request')
    else logger.info(line, 'request')
  })
  return { requestId, traceContext: span?.context }
}
