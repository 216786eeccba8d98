import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Config } from '../config/load-config.js'
import type { ClientAddressOf } from '../http/client-address.js'
import { bodyLimitResponse } from '../http/graphql-body-limit.js'
import { type RestResponse, send } from '../http/respond.js'
import { createStaticTransfers } from '../http/static-transfers.js'
import { createFastPath } from './fast-path.js'
import { createGraphiql, type Graphiql } from './graphiql.js'
import type { ParseCaches } from './parse-cache.js'
import { EXAMPLE_QUERY, GRAPHQL_PATH, type GraphqlServer } from './yoga.js'

export interface GraphqlEndpoint {
  /** A request to /graphql: GraphiQL's page for a browser, else yoga behind the body limit. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
  /** GraphiQL's page and assets; undefined when GRAPHIQL is off. */
  graphiql: Graphiql | undefined
  /** Requests the fast path answered itself (not handed to yoga). */
  readonly fastPathAnswers: number
}

export interface EndpointOptions {
  /** Yoga's caches, shared with the fast path. */
  parseCaches: ParseCaches
  /** Plain requests skip yoga's HTTP layer (fast-path.ts); off only to compare the two paths. */
  fastPath?: boolean
}

export function createGraphqlEndpoint(
  yoga: GraphqlServer,
  config: Pick<Config, 'graphiql' | 'maxBodyBytes' | 'corsOrigins'>,
  clientAddressOf: ClientAddressOf,
  { parseCaches, fastPath = true }: EndpointOptions,
): GraphqlEndpoint {
  const fast = fastPath
    ? createFastPath(yoga, {
        documentCache: parseCaches.documentCache,
        varyOrigin: config.corsOrigins.length > 0,
      })
    : undefined
  // The one place a GraphQL request chooses its path: fast-path.ts decides, and hands the rest to yoga.
  const answer = fast ? fast.handle : yoga.requestListener
  const graphiql = config.graphiql
    ? createGraphiql({
        title: 'ctera-app GraphQL',
        defaultQuery: EXAMPLE_QUERY,
        graphqlPath: GRAPHQL_PATH,
        sendStatic: createStaticTransfers(clientAddressOf),
      })
    : undefined
  return {
    graphiql,
    get fastPathAnswers() {
      return fast?.answered ?? 0
    },
    async handle(req, res) {
      if (wantsGraphiql(req)) {
        if (graphiql) return graphiql.page(req, res)
        // Yoga would say "Must provide query string.": the person at the browser needs to know why.
        if (!hasQuery(req)) return send(req, res, graphiqlOff)
      }
      // Yoga answers HEAD with 405. Node already knows this response must carry no body (it decided
      // when the request arrived), so yoga may treat it as the GET it stands for.
      if (req.method === 'HEAD') req.method = 'GET'
      // The in-flight and per-client budgets were applied before (http/graphql-admission.ts).
      const refused = bodyLimitResponse(req, config.maxBodyBytes)
      if (refused) return send(req, res, refused)
      await answer(req, res)
    },
  }
}

/** A browser navigating to /graphql (yoga's own test): GET, and HTML among the accepted types. */
export function wantsGraphiql(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && Boolean(req.headers.accept?.includes('text/html'))
}

/** A GET that carries its operation (`?query=` or a persisted `?extensions=`) is for yoga, even from a browser. */
function hasQuery(req: IncomingMessage): boolean {
  const search = new URL(req.url ?? '/', 'http://localhost').searchParams
  return search.has('query') || search.has('extensions')
}

/** 404: there is no page here, and the answer says which setting would put it there. */
const graphiqlOff: RestResponse = {
  status: 404,
  body: {
    code: 'GRAPHIQL_OFF',
    error:
      'GraphiQL, the GraphQL playground, is off on this server (GRAPHIQL=false); set GRAPHIQL=true to turn it on. Queries still work: POST /graphql.',
  },
}
