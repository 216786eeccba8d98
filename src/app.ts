import type { IncomingMessage, ServerResponse } from 'node:http'
import { createYoga, type YogaServerInstance } from 'graphql-yoga'
import type { Config } from './config.js'
import type { Database } from './db/database.js'
import { graphqlLimits } from './graphql-limits.js'
import { useGraphqlMetrics } from './graphql-metrics.js'
import { dampingOptions, poolPercent } from './health/damping-options.js'
import { HealthMonitor } from './health/monitor.js'
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
import { useGraphqlTracing } from './telemetry/graphql-spans.js'
import { withinTrace } from './telemetry/spans.js'

export const GRAPHQL_PATH = '/graphql'

const EXAMPLE_QUERY = `# Is the database up, and what does it hold?
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
  | 'healthFailuresBeforeUnready'
  | 'healthSuccessesBeforeReady'
  | 'healthChecksBeforeWarn'
  | 'healthHistorySize'
  | 'healthRequirePrimary'
  | 'healthMaxReplayLagMs'
  | 'production'
  | 'introspection'
  | 'graphiql'
  | 'maxBodyBytes'
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
      damping: dampingOptions(config),
      poolPercent: () => poolPercent(db.poolStats().queries),
    },
    logger,
  )
  const metrics = createMetrics(db, monitor)
  const context = (): Context => ({ db, monitor, containerName: config.containerName })
  const yoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context,
    // Never attach internal error details to a response, whatever NODE_ENV says.
    maskedErrors: { isDev: false },
    graphiql: config.graphiql ? { title: 'ctera-app GraphQL', defaultQuery: EXAMPLE_QUERY } : false,
    // GraphiQL's code is served by us rather than a CDN, so the playground works offline and behind
    // proxies. Its bundle costs ~50 MB of memory, so it is loaded on the first page view, not at start.
    renderGraphiQL: async (options) =>
      (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    // Unknown paths get our JSON 404 before yoga sees them; yoga's HTML landing page stays off.
    landingPage: false,
    logging: logger,
    // One operation per request: a batch would multiply the work one request can ask for.
    batching: false,
    plugins: [
      ...graphqlLimits({
        introspection: config.introspection,
        hideSuggestions: config.production || !config.introspection,
      }),
      useGraphqlMetrics(metrics.registry),
      useGraphqlTracing(),
    ],
  })

  const detailedHealth = async (): Promise<RestResponse> =>
    healthJson(await monitor.check(), db.poolStats().queries, monitor.state, {
      containerName: config.containerName,
      policy: { requirePrimary: config.healthRequirePrimary, maxReplayLagMs: config.healthMaxReplayLagMs },
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
      // Yoga answers HEAD with 405. Node already knows this response must carry no body (it decided
      // when the request arrived), so yoga may treat it as the GET it stands for.
      if (req.method === 'HEAD') req.method = 'GET'
      const tooLarge = bodyLimitResponse(req, config.maxBodyBytes)
      if (tooLarge) return send(req, res, tooLarge)
      await yoga.requestListener(req, res)
      return
    }
    const restRoute = routes[path]
    if (!restRoute) return send(req, res, notFound)
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, methodNotAllowed(REST_METHODS))
    const response = await restRoute(req)
    if (response.error)
      logger.error({ err: response.error, path }, 'unexpected error answering a REST request')
    send(req, res, response)
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = pathOf(req.url)
    const { requestId, traceContext } = trackRequest(
      req,
      res,
      path === GRAPHQL_PATH || path in routes ? path : 'unmatched',
      { logger, metrics },
    )
    // While draining, ask clients to drop keep-alive connections so none is cut between two requests.
    if (monitor.isShuttingDown) res.setHeader('connection', 'close')

    withinTrace(traceContext, () =>
      route(req, res, path).catch((error: unknown) => {
        logger.error({ err: error, requestId }, 'unexpected error answering a request')
        if (!res.headersSent) send(req, res, internalError)
        else res.destroy()
      }),
    )
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

function pathOf(url: string | undefined): string {
  const path = url ?? '/'
  const query = path.indexOf('?')
  return query === -1 ? path : path.slice(0, query)
}
