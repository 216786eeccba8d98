import type { IncomingMessage, ServerResponse } from 'node:http'
import { renderGraphiQL } from '@graphql-yoga/render-graphiql'
import { createYoga, type YogaServerInstance } from 'graphql-yoga'
import type { Config } from './config.js'
import type { Database } from './db/database.js'
import type { Logger } from './logger.js'
import { getHealth } from './rest/health.js'
import { getNumberOfTables } from './rest/number-of-tables.js'
import { internalError, methodNotAllowed, notFound, type RestResponse, sendJson } from './rest/respond.js'
import type { Context } from './schema/builder.js'
import { schema } from './schema/index.js'

export const GRAPHQL_PATH = '/graphql'

const EXAMPLE_QUERY = `# Is the database reachable, and what does it hold?
# Press the run button (or Ctrl+Enter) to check it now.
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

type RestRoute = (context: Context) => Promise<RestResponse>

const REST_ROUTES: Record<string, RestRoute> = {
  '/health': (context) => getHealth(schema, context),
  '/number_of_tables': (context) => getNumberOfTables(schema, context),
}
const REST_METHODS = 'GET, HEAD'

export interface AppDependencies {
  config: Pick<Config, 'containerName'>
  db: Database
  logger: Logger
}

export interface App {
  /** The Node request listener: REST shims first, then GraphQL; never listens by itself. */
  handle(req: IncomingMessage, res: ServerResponse): void
  yoga: YogaServerInstance<Record<string, never>, Context>
  dispose(): Promise<void>
}

export function createApp({ config, db, logger }: AppDependencies): App {
  const context: Context = { db, containerName: config.containerName }
  const yoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: () => context,
    // Never attach internal error details to a response, whatever NODE_ENV says.
    maskedErrors: { isDev: false },
    graphiql: { title: 'ctera-app GraphQL', defaultQuery: EXAMPLE_QUERY },
    // GraphiQL's code is served by us rather than a CDN: the playground works offline and behind proxies.
    renderGraphiQL,
    // Unknown paths get our JSON 404 before yoga sees them; yoga's HTML landing page stays off.
    landingPage: false,
    logging: logger,
  })

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req.url)
    // Yoga's own health plugin answers any URL ending in /health; the seed's /health is routed here
    // first, and only the GraphQL path ever reaches yoga.
    if (path === GRAPHQL_PATH) {
      // Yoga answers HEAD with 405. Node already knows this response must carry no body (it decided
      // when the request arrived), so yoga may treat it as the GET it stands for.
      if (req.method === 'HEAD') req.method = 'GET'
      await yoga.requestListener(req, res)
      return
    }
    const restRoute = REST_ROUTES[path]
    if (!restRoute) return sendJson(req, res, notFound)
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(req, res, methodNotAllowed(REST_METHODS))
    const response = await restRoute(context)
    if (response.error)
      logger.error({ err: response.error, path }, 'unexpected error answering a REST request')
    sendJson(req, res, response)
  }

  return {
    handle(req, res) {
      route(req, res).catch((error: unknown) => {
        logger.error({ err: error }, 'unexpected error answering a request')
        if (!res.headersSent) sendJson(req, res, internalError)
        else res.destroy()
      })
    },
    yoga,
    dispose: async () => {
      await yoga.dispose()
    },
  }
}

function pathOf(url: string | undefined): string {
  const path = url ?? '/'
  const query = path.indexOf('?')
  return query === -1 ? path : path.slice(0, query)
}
