import type { IncomingMessage, ServerResponse } from 'node:http'
import { drainOrClose } from './graphql-body-limit.js'
import type { RestResponse } from './respond.js'

export interface InFlightLimit {
  /** Counts the request in until its answer starts; undefined when admitted, else the 503 to send. */
  admit(req: IncomingMessage, res: ServerResponse): RestResponse | undefined
  readonly count: number
}

/**
 * Bounds the GraphQL requests being read, parsed or run at once. Each can hold a body of up to
 * GRAPHQL_MAX_BODY_BYTES and a parsed document of up to the token limit while it waits on the
 * database, so their number, not only their size, decides how much memory clients can make the service
 * hold (1,000 slow 95 KB bodies held 95 MB before this limit). Past it, requests are refused at once,
 * before their body is parsed; the body is read and thrown away as it comes (as for a 413), so a proxy
 * that sends it all before reading the answer gets the 503, not a reset.
 *
 * A request counts until its answer starts (its headers are written), so a live subscription counts
 * only until its stream opens; open streams have their own limit (GRAPHQL_MAX_SUBSCRIPTIONS).
 */
export function createInFlightLimit(max: number): InFlightLimit {
  let inFlight = 0
  return {
    get count() {
      return inFlight
    },
    admit(req, res) {
      if (inFlight >= max) return { ...busy, headers: { 'retry-after': '1', ...drainOrClose(req) } }
      inFlight++
      let released = false
      const release = () => {
        if (released) return
        released = true
        inFlight--
      }
      // Node emits no event when headers go out; yoga always writes them with writeHead.
      const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse
      res.writeHead = ((...args: unknown[]) => {
        release()
        return writeHead(...args)
      }) as ServerResponse['writeHead']
      res.once('close', release)
      return undefined
    },
  }
}

const busy: RestResponse = {
  status: 503,
  // GraphQL-shaped, so GraphQL clients can read it.
  body: {
    errors: [{ message: 'The server is busy: try again shortly.', extensions: { code: 'SERVER_BUSY' } }],
  },
}
