import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Config } from '../config/index.js'
import { bodyLimitResponse } from '../http/graphql-body-limit.js'
import { createInFlightLimit } from '../http/in-flight-limit.js'
import { send } from '../http/respond.js'
import { createFastPath } from './fast-path.js'
import { createGraphiql, type Graphiql } from './graphiql.js'
import type { ParseCaches } from './parse-cache.js'
import { EXAMPLE_QUERY, GRAPHQL_PATH, type GraphqlServer } from './yoga.js'

export interface GraphqlEndpoint {
  /** A request to /graphql: GraphiQL's page for a browser, else yoga behind the body and in-flight limits. */
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
  config: Pick<Config, 'graphiql' | 'maxBodyBytes' | 'maxInFlight' | 'corsOrigins'>,
  { parseCaches, fastPath = true }: EndpointOptions,
): GraphqlEndpoint {
  const inFlight = createInFlightLimit(config.maxInFlight)
  const fast = fastPath
    ? createFastPath(yoga, {
        documentCache: parseCaches.documentCache,
        varyOrigin: config.corsOrigins.length > 0,
      })
    : undefined
  // The one place a GraphQL request chooses its path: fast-path.ts decides, and hands the rest to yoga.
  const answer = fast ? fast.handle : yoga.requestListener
  const graphiql = config.graphiql
    ? createGraphiql({ title: 'ctera-app GraphQL', defaultQuery: EXAMPLE_QUERY, graphqlPath: GRAPHQL_PATH })
    : undefined
  return {
    graphiql,
    get fastPathAnswers() {
      return fast?.answered ?? 0
    },
    async handle(req, res) {
      if (graphiql && wantsGraphiql(req)) return graphiql.page(req, res)
      // Yoga answers HEAD with 405. Node already knows this response must carry no body (it decided
      // when the request arrived), so yoga may treat it as the GET it stands for.
      if (req.method === 'HEAD') req.method = 'GET'
      const refused = bodyLimitResponse(req, config.maxBodyBytes) ?? inFlight.admit(req, res)
      if (refused) return send(req, res, refused)
      await answer(req, res)
    },
  }
}

/** A browser navigating to /graphql (yoga's own test): GET, and HTML among the accepted types. */
export function wantsGraphiql(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && Boolean(req.headers.accept?.includes('text/html'))
}
