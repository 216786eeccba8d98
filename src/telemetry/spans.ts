import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'

/**
 * The service's own spans, through OpenTelemetry's API. While tracing is off (the default) every helper
 * returns after one boolean test: no span objects, no context lookups, nothing per request.
 */
let enabled = false

/** Called by startTracing once a tracer provider is registered (and by its shutdown). */
export function setTracingEnabled(on: boolean): void {
  enabled = on
}

export function tracingEnabled(): boolean {
  return enabled
}

const tracer = () => trace.getTracer('ctera-app')

/** The request's server span: its context (to run the request in) and a function that ends it. */
export interface ServerSpan {
  context: Context
  traceId: string
  spanId: string
  end(status: number): void
}

/**
 * A SERVER span for one HTTP request, child of the caller's `traceparent` when it sends one. `route` comes
 * from a fixed set (never the raw path, which a client chooses); `requestId` links it to the log line.
 */
export function startServerSpan(
  req: IncomingMessage,
  route: string,
  requestId: string,
): ServerSpan | undefined {
  if (!enabled) return undefined
  const method = req.method ?? 'GET'
  const parent = propagation.extract(ROOT_CONTEXT, req.headers)
  const known = route !== 'unmatched'
  const span = tracer().startSpan(
    known ? `${method} ${route}` : method,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        ...(known ? { 'http.route': route } : {}),
        ...arrival(req),
        'ctera.request_id': requestId,
      },
    },
    parent,
  )
  const { traceId, spanId } = span.spanContext()
  return {
    context: trace.setSpan(parent, span),
    traceId,
    spanId,
    end(status) {
      span.setAttribute('http.response.status_code', status)
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
      span.end()
    },
  }
}

// A Host header names a host and maybe a port; anything else (a client may send what it likes) is not used.
const HOST_HEADER = /^([a-zA-Z0-9.-]{1,253}|\[[0-9a-fA-F:.]{2,45}\])(?::(\d{1,5}))?$/

/**
 * Where the request arrived, as the HTTP semantic conventions name it: `url.path` without the query string
 * (which may carry values), the scheme, and the server's name and port as the client addressed it (the Host
 * header), else the socket's own.
 */
function arrival(req: IncomingMessage): Record<string, string | number> {
  const host = HOST_HEADER.exec(req.headers.host ?? '')
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  return {
    'url.path': path.length > 256 ? `${path.slice(0, 256)}…` : path,
    'url.scheme': (req.socket as TLSSocket).encrypted ? 'https' : 'http',
    'server.address': host?.[1] ?? req.socket.localAddress ?? '',
    'server.port': Number(host?.[2] ?? req.socket.localPort ?? 0),
  }
}

/**
 * Runs one query in a CLIENT span with the database semantic conventions. Only inside a traced request:
 * the background monitor's checks would otherwise start a trace of their own every few seconds.
 * `database`: the connection's database name (`db.namespace`).
 */
export function inDatabaseSpan<T>(
  text: string,
  database: string | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (!enabled) return work()
  const parent = context.active()
  if (!trace.getSpan(parent)) return work()
  const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY'
  const span = tracer().startSpan(
    operation,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system': 'postgresql',
        'db.system.name': 'postgresql',
        'db.operation.name': operation,
        ...(database ? { 'db.namespace': database } : {}),
        // The service's SQL is fixed text with $n parameters: no user value is in it.
        'db.query.text': text,
      },
    },
    parent,
  )
  return endWith(span, context.with(trace.setSpan(parent, span), work))
}

/** Runs `work` inside a request's trace context, or as is when there is none. */
export function withinTrace<T>(traceContext: Context | undefined, work: () => T): T {
  return traceContext ? context.with(traceContext, work) : work()
}

/** Ends `span` when `work` settles, marking it failed when `work` rejects. */
export async function endWith<T>(span: Span, work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' })
    throw error
  } finally {
    span.end()
  }
}

export { tracer }
