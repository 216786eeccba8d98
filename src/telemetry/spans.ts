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
  method: string | undefined,
  route: string,
  headers: Record<string, string | string[] | undefined>,
  requestId: string,
): ServerSpan | undefined {
  if (!enabled) return undefined
  const parent = propagation.extract(ROOT_CONTEXT, headers)
  const known = route !== 'unmatched'
  const span = tracer().startSpan(
    known ? `${method ?? 'GET'} ${route}` : (method ?? 'GET'),
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method ?? 'GET',
        ...(known ? { 'http.route': route } : {}),
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

/**
 * Runs one query in a CLIENT span with the database semantic conventions. Only inside a traced request:
 * the background monitor's checks would otherwise start a trace of their own every few seconds.
 */
export function inDatabaseSpan<T>(text: string, work: () => Promise<T>): Promise<T> {
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
