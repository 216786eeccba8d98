import type { IncomingMessage, ServerResponse } from 'node:http'
import { SharedSlots } from './client-share.js'
import { drainOrClose } from './graphql-body-limit.js'
import type { RestResponse } from './respond.js'

export interface InFlightLimit {
  /** Counts the request in until its answer starts; undefined when admitted, else the answer to send. */
  admit(req: IncomingMessage, res: ServerResponse, client: string): RestResponse | undefined
  readonly count: number
}

/**
 * Bounds the GraphQL requests being read, parsed or run at once, in total (GRAPHQL_MAX_IN_FLIGHT) and
 * per client (CLIENT_MAX_SHARE_PERCENT of them). Each can hold a body of up to GRAPHQL_MAX_BODY_BYTES
 * and a parsed document of up to the token limit while it waits on the database, so their number, not
 * only their size, decides how much memory clients can make the service hold (1,000 slow 95 KB bodies
 * held 95 MB before this limit). Past it, requests are refused at once, before their body is parsed;
 * the body is read and thrown away as it comes (as for a 413), so a proxy that sends it all before
 * reading the answer gets the refusal, not a reset.
 *
 * A request whose body is still arriving counts: that body is memory this limit exists to bound, and
 * leaving it out would need a second limit of the same size. What keeps a slow sender from taking the
 * slots of others is the share per client (64 trickling sockets from one address hold 16 slots, not 64)
 * and the body deadline (HTTP_BODY_TIMEOUT_MS), which frees a trickler's slot within seconds.
 *
 * A request counts until its answer starts (its headers are written), so a live subscription counts
 * only until its stream opens; open streams have their own limit (GRAPHQL_MAX_SUBSCRIPTIONS).
 */
export function createInFlightLimit(max: number, perClient: number): InFlightLimit {
  const slots = new SharedSlots(max, perClient)
  return {
    get count() {
      return slots.count
    },
    admit(req, res, client) {
      const release = slots.take(client)
      if (release === 'full') return { ...busy, headers: { 'retry-after': '1', ...drainOrClose(req) } }
      if (release === 'share') return { ...tooMany, headers: { 'retry-after': '1', ...drainOrClose(req) } }
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

// GraphQL-shaped, so GraphQL clients can read them.
const busy: RestResponse = {
  status: 503,
  body: {
    errors: [{ message: 'The server is busy: try again shortly.', extensions: { code: 'SERVER_BUSY' } }],
  },
}

const tooMany: RestResponse = {
  status: 429,
  body: {
    errors: [
      {
        message: 'Too many GraphQL requests at once from your address: try again shortly.',
        extensions: { code: 'TOO_MANY_REQUESTS' },
      },
    ],
  },
}
