import type { ExecutionResult } from 'graphql'
import { isAsyncIterable, type Plugin } from 'graphql-yoga'

/** How often an idle stream says it is alive, as yoga's SSE streams do, so proxies do not cut it. */
const HEARTBEAT_MS = 12_000
const BOUNDARY = 'graphql'
const DELIMITER = `\r\n--${BOUNDARY}`

/**
 * Subscriptions in Apollo's multipart HTTP protocol (multipart/mixed with subscriptionSpec=1.0), which
 * Apollo Client's default HTTP link asks for. Yoga serves subscriptions only as Server-Sent Events
 * (its multipart/mixed is for @defer), so Apollo got 406 before. Each event is a JSON part
 * `{"payload": <result>}`; `{}` is a heartbeat; the stream ends with the closing delimiter.
 * https://www.apollographql.com/docs/graphos/routing/operations/subscriptions/multipart-protocol
 *
 * Uploads (multipart *requests*) stay off: this is only about the answer's format.
 */
export function useMultipartSubscriptions(onError: (error: unknown) => void): Plugin {
  return {
    onResultProcess({ request, result, setResultProcessor }) {
      if (!isAsyncIterable(result) || !prefersMultipart(request.headers.get('accept'))) return
      setResultProcessor(
        (stream, fetchAPI) => multipartResponse(stream as AsyncIterable<ExecutionResult>, fetchAPI, onError),
        'multipart/mixed',
      )
    },
  }
}

/**
 * True when the Accept header names Apollo's multipart subscription type before any event stream
 * (a client listing both in that order gets what it listed first).
 */
export function prefersMultipart(accept: string | null): boolean {
  for (const range of (accept ?? '').toLowerCase().split(',')) {
    const [type, ...params] = range.split(';').map((piece) => piece.trim())
    if (type === 'text/event-stream') return false
    const spec = params.find((param) => param.replace(/\s/g, '').startsWith('subscriptionspec='))
    if (type === 'multipart/mixed' && spec) return true
  }
  return false
}

/** As yoga's own answers: the status and flags it keeps in error extensions are not for clients. */
function withoutInternals(result: ExecutionResult): unknown {
  if (!result.errors?.length) return result
  const errors = result.errors.map((error) => {
    const { http: _http, unexpected: _unexpected, ...extensions } = error.extensions ?? {}
    return { ...error.toJSON(), extensions: Object.keys(extensions).length ? extensions : undefined }
  })
  return { ...result, errors }
}

function multipartResponse(
  results: AsyncIterable<ExecutionResult>,
  fetchAPI: { ReadableStream: typeof ReadableStream; Response: typeof Response },
  onError: (error: unknown) => void,
): Response {
  const encoder = new TextEncoder()
  const iterator = results[Symbol.asyncIterator]()
  let heartbeat: NodeJS.Timeout | undefined
  // Each part is followed by the next delimiter at once: a client reads a part as complete only then.
  const part = (body: unknown) =>
    encoder.encode(
      `\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${JSON.stringify(body)}${DELIMITER}`,
    )
  const body = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      // A first heartbeat at once: the client sees the stream open before the first event.
      controller.enqueue(encoder.encode(DELIMITER))
      controller.enqueue(part({}))
      heartbeat = setInterval(() => {
        if ((controller.desiredSize ?? 0) > 0) controller.enqueue(part({}))
      }, HEARTBEAT_MS)
      heartbeat.unref()
    },
    async pull(controller) {
      try {
        const { done, value } = await iterator.next()
        if (!done) return controller.enqueue(part({ payload: withoutInternals(value) }))
      } catch (error) {
        // A transport-level error in the protocol's terms; the cause is logged, never sent.
        onError(error)
        controller.enqueue(part({ payload: null, errors: [{ message: 'Unexpected error.' }] }))
      }
      clearInterval(heartbeat)
      controller.enqueue(encoder.encode('--\r\n')) // after the last delimiter: the closing one
      controller.close()
    },
    async cancel() {
      clearInterval(heartbeat)
      await iterator.return?.()
    },
  })
  return new fetchAPI.Response(body, {
    status: 200,
    headers: {
      'content-type': `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
      'cache-control': 'no-store',
      // Each part must reach the client as it is written (nginx honours this header).
      'x-accel-buffering': 'no',
    },
  })
}
