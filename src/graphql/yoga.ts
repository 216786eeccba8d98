import type { IncomingMessage } from 'node:http'
import { createYoga, type YogaServerInstance } from 'graphql-yoga'
import type { Registry } from 'prom-client'
import type { Config } from '../config/load-config.js'
import type { LogUnexpected } from '../error-log.js'
import type { Logger } from '../logger.js'
import type { Context } from '../schema/builder.js'
import { schema } from '../schema/index.js'
import { useGraphqlTracing } from '../telemetry/graphql-spans.js'
import { useLowerCaseAllow } from './allow-header.js'
import { useBadRequests } from './bad-requests.js'
import { corsOptions, useVaryOrigin } from './cors.js'
import { useGraphqlMetrics } from './graphql-metrics.js'
import { graphqlLimits } from './limits.js'
import { useMultipartSubscriptions } from './multipart-subscriptions.js'
import { createParseCaches, type ParseCaches } from './parse-cache.js'
import { useRefuseSingleConnectionMode } from './sse-single-connection.js'

export const GRAPHQL_PATH = '/graphql'

/** GraphiQL's default query, and the README's first GraphQL example. */
export const EXAMPLE_QUERY = `# Is the database up, and what does it hold?
# Run it: the ▶ button, or Ctrl+Enter.
query Overview {
  health {
    healthy
    status
    container
    latencyMs
    checkedAt
    reason
  }
  numberOfTables
  userTables: numberOfTables(includeSystem: false)
}
`

/** What yoga's Node adapter hands each request's context: the Node request (absent in yoga.fetch()). */
export type ServerContext = { req?: IncomingMessage }

export type GraphqlServer = YogaServerInstance<ServerContext, Context>

export interface GraphqlServerOptions {
  config: Pick<Config, 'production' | 'introspection' | 'corsOrigins'>
  /** Yoga passes its server context: the Node request, as `req`. */
  context: (server: ServerContext) => Context
  /** The service's metrics registry: GraphQL's own metrics join it. */
  registry: Registry
  logger: Logger
  logUnexpected: LogUnexpected
  /** Yoga's parse and validation caches; the fast path (fast-path.ts) reads the same documents. */
  parseCaches?: ParseCaches
}

/** Yoga with the service's schema and plugins; it answers a Request, and never listens by itself. */
export function createGraphqlServer({
  config,
  context,
  registry,
  logger,
  logUnexpected,
  parseCaches = createParseCaches(),
}: GraphqlServerOptions): GraphqlServer {
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context,
    // Never attach internal error details to a response, whatever NODE_ENV says.
    maskedErrors: { isDev: false },
    // GraphiQL is served by the app itself (src/graphql/graphiql.ts), before yoga sees the request.
    graphiql: false,
    // Unknown paths get our JSON 404 before yoga sees them; yoga's HTML landing page stays off.
    landingPage: false,
    // Yoga logs each masked error with its stack: through the rate limit, so no client can flood the log.
    logging: {
      debug: (...args: unknown[]) => logger.debug(args.map(String).join(' ')),
      info: (...args: unknown[]) => logger.info(args.map(String).join(' ')),
      warn: (...args: unknown[]) => logger.warn(args.map(String).join(' ')),
      error: (error: unknown) => logUnexpected(error, {}, 'unexpected error answering a GraphQL request'),
    },
    // No file uploads here: multipart bodies are refused (415) rather than parsed.
    multipart: false,
    cors: corsOptions(config.corsOrigins),
    // One operation per request: a batch would multiply the work one request can ask for.
    batching: false,
    // Bounded in bytes: yoga's default holds 1,024 documents of any size.
    parserAndValidationCache: parseCaches,
    // The endpoint refuses a POST without Content-Length or over GRAPHQL_MAX_BODY_BYTES before yoga sees it
    // (http/graphql-body-limit.ts), and Node never reads past the declared length. Yoga's own count would
    // pipe every body through a TransformStream: a stream pipeline, an AbortController and an AbortError
    // per request, whose garbage cost more than half of GraphQL's throughput (BENCHMARKS.md).
    maxRequestBodySize: false,
    plugins: [
      ...graphqlLimits({
        introspection: config.introspection,
        hideSuggestions: config.production || !config.introspection,
      }),
      useGraphqlMetrics(registry),
      useGraphqlTracing(),
      useBadRequests(),
      useVaryOrigin(config.corsOrigins),
      useMultipartSubscriptions((error) =>
        logUnexpected(error, {}, 'unexpected error in a multipart subscription stream'),
      ),
      useRefuseSingleConnectionMode(),
      useLowerCaseAllow(),
    ],
  })
}
