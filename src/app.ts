import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Config } from './config/load-config.js'
import type { Database } from './db/database.js'
import { createErrorLog } from './error-log.js'
import { createGraphqlEndpoint, wantsGraphiql } from './graphql/endpoint.js'
import { GRAPHIQL_ASSETS_PATH } from './graphql/graphiql.js'
import { createParseCaches } from './graphql/parse-cache.js'
import { createGraphqlServer, GRAPHQL_PATH, type GraphqlServer } from './graphql/yoga.js'
import { readinessPolicy } from './health/damping.js'
import type { HealthMonitor } from './health/monitor.js'
import { requireBearerToken } from './http/auth.js'
import { createClientAddressOf } from './http/client-address.js'
import { createGraphqlAdmission } from './http/graphql-admission.js'
import { createRequestListener } from './http/request-listener.js'
import { methodNotAllowed, notFound, options, type RestResponse, send } from './http/respond.js'
import type { Lifecycle } from './lifecycle.js'
import type { Logger } from './logger.js'
import { getApiDescription } from './rest/api-description.js'
import { getHealthJson, wantsHealthJson } from './rest/health-json.js'
import { getNumberOfTables } from './rest/number-of-tables.js'
import { openApiDocument } from './rest/openapi.js'
import { getLiveness, getReadiness } from './rest/probes.js'
import { getHealth } from './rest/seed-health.js'
import type { Context } from './schema/builder.js'
import { schema } from './schema/index.js'
import type { KnownRequest, Metrics } from './service-metrics.js'

// The seed's Allow header, word for word (Flask lists OPTIONS, HEAD, GET).
const REST_METHODS = 'OPTIONS, HEAD, GET'

/**
 * What answers without the bearer token when AUTH_TOKEN_FILE sets one: the seed's two routes (its bytes,
 * not health+json) and the probes, which orchestrators call without credentials. docs/security.md says why.
 */
const PUBLIC_PATHS = new Set(['/health', '/number_of_tables', '/livez', '/readyz'])

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
  | 'corsOrigins'
  | 'maxSubscriptions'
  | 'maxInFlight'
  | 'clientSharePercent'
  | 'trustedProxies'
  | 'bodyTimeoutMs'
  | 'subscriptionMaxMs'
  | 'authToken'
>

/** What the app answers from; src/service.ts builds them. */
export interface AppDependencies {
  config: AppConfig
  db: Database
  monitor: HealthMonitor
  lifecycle: Lifecycle
  metrics: Metrics
  logger: Logger
  /** The service's version, shown in health+json only when HEALTH_DETAILS is on. */
  version: string
  /** GraphQL's fast path for plain requests (src/graphql/fast-path.ts); default on, off only to compare. */
  graphqlFastPath?: boolean
}

export interface App {
  /** The Node request listener: REST routes first, then GraphQL; never listens by itself. */
  handle(req: IncomingMessage, res: ServerResponse): void
  yoga: GraphqlServer
  /** GraphQL requests the fast path answered itself (src/graphql/fast-path.ts). */
  readonly graphqlFastPathAnswers: number
  /** Disposes GraphQL (its plugins' resources). */
  dispose(): Promise<void>
}

type RestRoute = (req: IncomingMessage) => RestResponse | Promise<RestResponse>

/** The route table: which room answers each path. */
export function createApp({
  config,
  db,
  monitor,
  lifecycle,
  metrics,
  logger,
  version,
  graphqlFastPath = true,
}: AppDependencies): App {
  const logUnexpected = createErrorLog(logger)
  const clientAddressOf = createClientAddressOf(config.trustedProxies)
  // Yoga hands in the Node request; the REST shims run their fixed operation with no client of their own.
  const context = (server?: { req?: IncomingMessage }): Context => ({
    db,
    monitor,
    containerName: config.containerName,
    showDetails: config.healthDetails,
    client: server?.req ? clientAddressOf(server.req) : 'internal',
  })
  const parseCaches = createParseCaches()
  const yoga = createGraphqlServer({
    config,
    context,
    registry: metrics.registry,
    logger,
    logUnexpected,
    parseCaches,
  })
  const graphql = createGraphqlEndpoint(yoga, config, clientAddressOf, {
    parseCaches,
    fastPath: graphqlFastPath,
  })
  const admission = createGraphqlAdmission(config, clientAddressOf)
  const healthJson = () =>
    getHealthJson(monitor, db, {
      containerName: config.containerName,
      policy: readinessPolicy(config),
      warn: {
        latencyMs: config.healthWarnLatencyMs,
        poolPercent: config.healthWarnPoolPercent,
        checksInARow: config.healthChecksBeforeWarn,
      },
      details: config.healthDetails,
      version,
    })

  const routes: Record<string, RestRoute> = {
    '/health': async (req) => {
      const response = wantsHealthJson(req.headers.accept)
        ? await healthJson()
        : await getHealth(schema, context())
      return { ...response, headers: { ...response.headers, vary: 'Accept' } }
    },
    '/healthz': healthJson,
    '/livez': getLiveness,
    '/readyz': () => getReadiness(monitor, lifecycle),
    '/number_of_tables': () => getNumberOfTables(schema, context()),
    '/metrics': async () => ({
      status: 200,
      text: await metrics.registry.metrics(),
      headers: { 'content-type': metrics.registry.contentType },
    }),
    '/openapi.json': getApiDescription,
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    // Yoga's own health plugin answers any URL ending in /health; the seed's /health is routed here
    // first, and only the GraphQL path ever reaches yoga.
    if (path === GRAPHQL_PATH) return graphql.handle(req, res)
    if (graphql.graphiql && path.startsWith(GRAPHIQL_ASSETS_PATH)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, methodNotAllowed('GET, HEAD'))
      return graphql.graphiql.asset(req, res, path)
    }
    const restRoute = routes[path]
    if (!restRoute) return send(req, res, notFound)
    if (req.method === 'OPTIONS') return send(req, res, options(REST_METHODS))
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, methodNotAllowed(REST_METHODS))
    const response = await restRoute(req)
    if (response.error) logUnexpected(response.error, { path }, 'unexpected error answering a REST request')
    send(req, res, response)
  }

  /**
   * Open with a token set: the paths above; OPTIONS anywhere (it names methods, and browsers send CORS
   * preflights without credentials); GraphiQL's page and assets, which hold no data (a browser cannot add
   * a header to a navigation: the page sends the token, typed into its headers editor, with each query).
   */
  function isPublic(req: IncomingMessage, path: string): boolean {
    if (req.method === 'OPTIONS') return true
    if (path === '/health') return !wantsHealthJson(req.headers.accept)
    if (PUBLIC_PATHS.has(path)) return true
    if (!graphql.graphiql) return false
    return path.startsWith(GRAPHIQL_ASSETS_PATH) || (path === GRAPHQL_PATH && wantsGraphiql(req))
  }

  metrics.initialiseRequests(usualAnswers(config.authToken !== undefined))

  function routeLabel(path: string): string {
    if (path === GRAPHQL_PATH || Object.hasOwn(routes, path)) return path
    return path.startsWith(GRAPHIQL_ASSETS_PATH) ? GRAPHIQL_ASSETS_PATH : 'unmatched'
  }

  return {
    handle: createRequestListener(requireBearerToken(route, config.authToken, isPublic), {
      routeLabel,
      logger,
      metrics,
      lifecycle,
      logUnexpected,
      admit: (req, res, path) => (path === GRAPHQL_PATH ? admission.admit(req, res) : undefined),
    }),
    yoga,
    get graphqlFastPathAnswers() {
      return graphql.fastPathAnswers
    },
    dispose: async () => {
      await yoga.dispose()
    },
  }
}

/**
 * The answers each route gives in normal operation, whose metrics series exist from the start: GET on
 * the REST routes with every status their API description lists, and GraphQL's POST with its usual ones;
 * 401 only when a bearer token is set.
 */
function usualAnswers(withToken: boolean): KnownRequest[] {
  const rest = Object.entries(openApiDocument.paths).flatMap(([route, item]) =>
    Object.keys(item.get.responses).map((status) => ({ method: 'GET', route, status: Number(status) })),
  )
  // 400 unreadable or invalid, 401 no token, 413 too large, 429 over the client's share, 503 busy or too
  // many subscriptions.
  const graphql = [200, 400, 401, 413, 429, 500, 503].map((status) => ({
    method: 'POST',
    route: GRAPHQL_PATH,
    status,
  }))
  return [...rest, ...graphql].filter((answer) => withToken || answer.status !== 401)
}
