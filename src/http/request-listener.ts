import type { IncomingMessage, ServerResponse } from 'node:http'
import type { LogUnexpected } from '../error-log.js'
import type { Lifecycle } from '../lifecycle.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../service-metrics.js'
import { withinTrace } from '../telemetry/spans.js'
import { trackRequest } from './request-log.js'
import { internalError, type RestResponse, send } from './respond.js'

export type Route = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>

export interface RequestListenerOptions {
  /** A fixed label for logs and metrics: a client must not be able to add label values. */
  routeLabel(path: string): string
  logger: Logger
  metrics: Metrics
  lifecycle: Lifecycle
  logUnexpected: LogUnexpected
  /** The budgets a request is held to before its route runs (GraphQL's: http/graphql-admission.ts). */
  admit?(req: IncomingMessage, res: ServerResponse, path: string): RestResponse | undefined
}

/**
 * The Node request listener around a route: a request id, one log line and one metrics sample per
 * request, `Connection: close` while draining, and a JSON 500 (logged, never detailed) for a route that throws.
 */
export function createRequestListener(
  route: Route,
  { routeLabel, logger, metrics, lifecycle, logUnexpected, admit }: RequestListenerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = pathOf(req.url)
    const { requestId, traceContext } = trackRequest(req, res, routeLabel(path), { logger, metrics })
    // While draining, ask clients to drop keep-alive connections so none is cut between two requests.
    if (lifecycle.isShuttingDown) res.setHeader('connection', 'close')
    const refused = admit?.(req, res, path)
    if (refused) return send(req, res, refused)

    // With tracing on, the route runs in the request's span, so GraphQL and database spans nest under it.
    withinTrace(traceContext, () =>
      route(req, res, path).catch((error: unknown) => {
        logUnexpected(error, { requestId }, 'unexpected error answering a request')
        if (!res.headersSent) send(req, res, internalError)
        else res.destroy()
      }),
    )
  }
}

function pathOf(url: string | undefined): string {
  const path = url ?? '/'
  const query = path.indexOf('?')
  return query === -1 ? path : path.slice(0, query)
}
