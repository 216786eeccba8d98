import type { IncomingMessage, ServerResponse } from 'node:http'
import { createYoga, type YogaServerInstance } from 'graphql-yoga'
import type { Config } from './config.js'
import { corsOptions, useVaryOrigin } from './cors.js'
import type { Database } from './db/database.js'
import { createErrorLog } from './error-log.js'
import { createGraphiql, GRAPHIQL_ASSETS_PATH } from './graphiql.js'
import { useBadRequests } from './graphql-bad-requests.js'
import { createParseCaches } from './graphql-cache.js'
import { graphqlLimits } from './graphql-limits.js'
import { useGraphqlMetrics } from './graphql-metrics.js'
import { useMultipartSubscriptions } from './graphql-multipart-subscriptions.js'
import { useRefuseSingleConnectionMode } from './graphql-sse-single-connection.js'
import { HealthMonitor } from './health/monitor.js'
import { createInFlightLimit } from './in-flight-limit.js'
import type { Logger } from './logger.js'
import { createMetrics } from './metrics.js'
import { trackRequest } from './request-log.js'
import { bodyLimitResponse } from './rest/body-limit.js'
import { getHealth } from './rest/health.js'
import { healthJson, wantsHealthJson } from './rest/health-json.js'
import { getNumberOfTables } from './rest/number-of-tables.js'
import { openApiDocument } from './rest/openapi.js'
import { getLiveness, getReadiness } from './rest/probes.js'
import { internalError, methodNotAllowed, notFound, type RestResponse, send } from './rest/respond.js'
import type { Context } from './schema/builder.js'
import { schema } from './schema/index.js'

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

const REST_METHODS = 'GET, HEAD'
export type AppConfig = Pick<
  Config,
  | 'containerName'
  | 'healthIntervalMs'
  | 'healthStaleIntervals'
  | 'healthWarnLatencyMs'
  | 'healthWarnPoolPercent'
  | 'healthDetails'
  | 'production'
  | 'introspection'
  | 'graphiql'
  | 'maxBodyBytes'
  | 'corsOrigins'
  | 'maxSubscriptions'
  | 'maxInFlight'
>

export interface AppDependencies {
  config: AppConfig
  db: Database
  logger: Logger
  /** The service's version, shown in health+json only when HEALTH_DETAILS is on. */
  version?: string
}

export interface App {
  /** The Node request listener: REST routes first, then GraphQL; never listens by itself. */
  handle(req: IncomingMessage, res: ServerResponse): void
  yoga: YogaServerInstance<Record<string, never>, Context>
  /** Latest health, readiness and transitions. start() it to check in the background. */
  monitor: HealthMonitor
  /** Stops the monitor (ending live subscriptions) and disposes GraphQL. */
  dispose(): Promise<void>
}

export function createApp({ config, db, logger, version = '0.0.0' }: AppDependencies): App {
  const monitor = new HealthMonitor(
    () => db.checkHealth(),
    {
      intervalMs: config.healthIntervalMs,
      staleAfterMs: config.healthIntervalMs * config.healthStaleIntervals,
      maxWatchers: config.maxSubscriptions,
    },
    logger,
  )
  const metrics = createMetrics(db, monitor)
  const logUnexpected = createErrorLog(logger)
  const context = (): Context => ({
    db,
    monitor,
    containerName: config.containerName,
    showDetails: config.healthDetails,
  })
  const yoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context,
    // Never attach internal error details to a response, whatever NODE_ENV says.
    maskedErrors: { isDev: false },
    // GraphiQL is served by the app itself (src/graphiql.ts), before yoga sees the request.
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
    parserAndValidationCache: createParseCaches(),
    plugins: [
      ...graphqlLimits({
        introspection: config.introspection,
        hideSuggestions: config.production || !config.introspection,
      }),
      useGraphqlMetrics(metrics.registry),
      useBadRequests(),
      useVaryOrigin(config.corsOrigins),
      useMultipartSubscriptions((error) =>
        logUnexpected(error, {}, 'unexpected error in a multipart subscription stream'),
      ),
      useRefuseSingleConnectionMode(),
    ],
  })

  const inFlight = createInFlightLimit(config.maxInFlight)
  const graphiql = config.graphiql
    ? createGraphiql({ title: 'ctera-app GraphQL', defaultQuery: EXAMPLE_QUERY, graphqlPath: GRAPHQL_PATH })
    : undefined

  const detailedHealth = async (): Promise<RestResponse> =>
    healthJson(await monitor.check(), db.poolStats().queries, {
      containerName: config.containerName,
      warnLatencyMs: config.healthWarnLatencyMs,
      warnPoolPercent: config.healthWarnPoolPercent,
      details: config.healthDetails,
      version,
    })

  const routes: Record<string, (req: IncomingMessage) => RestResponse | Promise<RestResponse>> = {
    '/health': async (req) => {
      const response = wantsHealthJson(req.headers.accept)
        ? await detailedHealth()
        : await getHealth(schema, context())
      return { ...response, headers: { ...response.headers, vary: 'Accept' } }
    },
    '/healthz': detailedHealth,
    '/livez': getLiveness,
    '/readyz': () => getReadiness(monitor),
    '/number_of_tables': () => getNumberOfTables(schema, context()),
    '/metrics': async () => ({
      status: 200,
      text: await metrics.registry.metrics(),
      headers: { 'content-type': metrics.registry.contentType },
    }),
    '/openapi.json': () => ({ status: 200, body: openApiDocument }),
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    // Yoga's own health plugin answers any URL ending in /health; the seed's /health is routed here
    // first, and only the GraphQL path ever reaches yoga.
    if (path === GRAPHQL_PATH) {
      if (graphiql && wantsGraphiql(req)) return graphiql.page(req, res)
      // Yoga answers HEAD with 405. Node already knows this response must carry no body (it decided
      // when the request arrived), so yoga may treat it as the GET it stands for.
      if (req.method === 'HEAD') req.method = 'GET'
      const refused = bodyLimitResponse(req, config.maxBodyBytes) ?? inFlight.admit(req, res)
      if (refused) return send(req, res, refused)
      await yoga.requestListener(req, res)
      return
    }
    if (graphiql && path.startsWith(GRAPHIQL_ASSETS_PATH)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, methodNotAllowed(REST_METHODS))
      return graphiql.asset(req, res, path)
    }
    const restRoute = routes[path]
    if (!restRoute) return send(req, res, notFound)
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, methodNotAllowed(REST_METHODS))
    const response = await restRoute(req)
    if (response.error) logUnexpected(response.error, { path }, 'unexpected error answering a REST request')
    send(req, res, response)
  }

  /** A fixed label for logs and metrics: a client must not be able to add label values. */
  function routeLabel(path: string): string {
    if (path === GRAPHQL_PATH || Object.hasOwn(routes, path)) return path
    return path.startsWith(GRAPHIQL_ASSETS_PATH) ? GRAPHIQL_ASSETS_PATH : 'unmatched'
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = pathOf(req.url)
    const requestId = trackRequest(req, res, routeLabel(path), {
      logger,
      metrics,
    })
    // While draining, ask clients to drop keep-alive connections so none is cut between two requests.
    if (monitor.isShuttingDown) res.setHeader('connection', 'close')

    route(req, res, path).catch((error: unknown) => {
      logUnexpected(error, { requestId }, 'unexpected error answering a request')
      if (!res.headersSent) send(req, res, internalError)
      else res.destroy()
    })
  }

  return {
    handle,
    yoga,
    monitor,
    dispose: async () => {
      monitor.stop()
      await yoga.dispose()
    },
  }
}

/** A browser navigating to /graphql (yoga's own test): GET, and HTML among the accepted types. */
function wantsGraphiql(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && Boolean(req.headers.accept?.includes('text/html'))
}

function pathOf(url: string | undefined): string {
  const path = url ?? '/'
  const query = path.indexOf('?')
  return query === -1 ? path : path.slice(0, query)
}
