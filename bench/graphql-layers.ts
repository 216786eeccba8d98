/**
 * What each layer of the GraphQL stack costs: yoga built as src/app.ts builds it, then with one plugin
 * or option changed at a time, each running `{ health { status } }` in process (yoga.fetch, no socket)
 * against the real database. Each figure is operations per second of CPU time used by this process, so
 * load from elsewhere on the machine counts less; the variants also take turns within each round, and
 * each figure is the median of the rounds, with the spread.
 */

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { useGraphQlJit } from '@envelop/graphql-jit'
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions'
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit'
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases'
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth'
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives'
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens'
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations'
import { execute, parse, type ValidationRule } from 'graphql'
import { createYoga, type Plugin, type YogaServerOptions } from 'graphql-yoga'
import type { ConnectionSettings } from '../src/config/database-target.js'
import { loadConfig } from '../src/config/load-config.js'
import type { Database } from '../src/db/database.js'
import { createPostgresDatabase } from '../src/db/postgres.js'
import { createErrorLog } from '../src/error-log.js'
import { useBadRequests } from '../src/graphql/bad-requests.js'
import { corsOptions, useVaryOrigin } from '../src/graphql/cors.js'
import { useGraphqlMetrics } from '../src/graphql/graphql-metrics.js'
import { GRAPHQL_LIMITS } from '../src/graphql/limits.js'
import { createParseCaches } from '../src/graphql/parse-cache.js'
import { createGraphqlServer } from '../src/graphql/yoga.js'
import { HealthMonitor } from '../src/health/monitor.js'
import { createLogger } from '../src/logger.js'
import type { Context } from '../src/schema/builder.js'
import { schema } from '../src/schema/index.js'
import { createMetrics } from '../src/service-metrics.js'
import { useGraphqlTracing } from '../src/telemetry/graphql-spans.js'
import { median, type Spread, spread } from './stats.js'

export const LAYER_QUERY = '{ health { status } }'
const PERSISTED_ID = 'health-status'

/** One way of building yoga; `send` is how a client asks for the operation (the query, or its id). */
interface Variant {
  name: string
  build(parts: Parts): { fetch: (body: string) => Promise<unknown>; dispose(): Promise<void> }
  body?: string
}

interface Parts {
  db: Database
  monitor: HealthMonitor
}

/** What one variant changes, relative to the service's own yoga options. */
interface Changes {
  /** Yoga options set over the service's. */
  yoga?: Partial<YogaServerOptions<Record<string, never>, Context>>
  /** graphql-armor parts, by name. */
  without?: Array<'maxTokens' | 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'costLimit' | 'suggestions'>
  metrics?: false
  badRequests?: false
  logging?: false
  persisted?: boolean
  jit?: boolean
}

/**
 * The yoga options of src/app.ts, written out so that each part can be switched alone. The first row
 * of the table runs the service's own yoga (createGraphqlServer) beside this copy, so the two cannot drift apart
 * unnoticed.
 */
function serviceLikeOptions(
  { db, monitor }: Parts,
  changes: Changes,
): YogaServerOptions<Record<string, never>, Context> {
  const logger = createLogger('info', { write: () => {} })
  const logUnexpected = createErrorLog(logger)
  const metrics = createMetrics(db, monitor, { showVersions: false })
  const without = new Set(changes.without ?? [])
  const report = {
    propagateOnRejection: false,
    onReject: [
      (context: { reportError(error: unknown): void } | null, error: unknown) => context?.reportError(error),
    ],
  }
  const rules: ValidationRule[] = []
  if (!without.has('maxDepth'))
    rules.push(
      maxDepthRule({
        n: GRAPHQL_LIMITS.maxDepth,
        ignoreIntrospection: true,
        flattenFragments: true,
        ...report,
      }),
    )
  if (!without.has('maxAliases')) rules.push(maxAliasesRule({ n: GRAPHQL_LIMITS.maxAliases, ...report }))
  if (!without.has('maxDirectives'))
    rules.push(maxDirectivesRule({ n: GRAPHQL_LIMITS.maxDirectives, ...report }))
  if (!without.has('costLimit'))
    rules.push(costLimitRule({ maxCost: GRAPHQL_LIMITS.maxCost, ignoreIntrospection: true, ...report }))
  const plugins: Plugin[] = []
  if (!without.has('maxTokens')) plugins.push(maxTokensPlugin({ n: GRAPHQL_LIMITS.maxTokens }))
  plugins.push({
    onValidate: ({ addValidationRule }) => {
      for (const rule of rules) addValidationRule(rule)
    },
  })
  if (!without.has('suggestions')) plugins.push(blockFieldSuggestionsPlugin())
  if (changes.metrics !== false) plugins.push(useGraphqlMetrics(metrics.registry))
  plugins.push(useGraphqlTracing())
  if (changes.badRequests !== false) plugins.push(useBadRequests())
  plugins.push(useVaryOrigin([]))
  if (changes.persisted) plugins.push(persistedOperations())
  if (changes.jit) plugins.push(useGraphQlJit() as Plugin)
  return {
    schema,
    context: () => ({ db, monitor, containerName: 'bench', showDetails: false }),
    maskedErrors: { isDev: false },
    graphiql: false,
    landingPage: false,
    logging:
      changes.logging === false
        ? false
        : {
            debug: (...args: unknown[]) => logger.debug(args.map(String).join(' ')),
            info: (...args: unknown[]) => logger.info(args.map(String).join(' ')),
            warn: (...args: unknown[]) => logger.warn(args.map(String).join(' ')),
            error: (error: unknown) => logUnexpected(error, {}, 'unexpected error'),
          },
    multipart: false,
    cors: corsOptions([]),
    batching: false,
    parserAndValidationCache: createParseCaches(),
    maxRequestBodySize: false,
    ...changes.yoga,
    plugins,
  }
}

function persistedOperations() {
  const known = new Map([[PERSISTED_ID, LAYER_QUERY]])
  return usePersistedOperations({
    getPersistedOperation: (id: string) => known.get(id) ?? null,
    allowArbitraryOperations: true,
    skipDocumentValidation: true,
  })
}

function nativeFetchApi() {
  const { Request, Response, Headers, ReadableStream, URL, URLSearchParams, TextEncoder, TextDecoder } =
    globalThis
  return { Request, Response, Headers, ReadableStream, URL, URLSearchParams, TextEncoder, TextDecoder }
}

function yogaVariant(name: string, changes: Changes, body?: string): Variant {
  return {
    name,
    body,
    build: (parts) => {
      const yoga = createYoga(serviceLikeOptions(parts, changes))
      return { fetch: (text) => post(yoga.fetch, text), dispose: () => Promise.resolve(yoga.dispose()) }
    },
  }
}

type YogaFetch = (url: string, init: RequestInit) => Promise<Response> | Response

async function post(fetch: YogaFetch, body: string): Promise<unknown> {
  const response = await fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  })
  const text = await response.text()
  if (response.status !== 200 || !text.includes('Healthy!')) throw new Error(`unexpected answer: ${text}`)
  return text
}

/** Yoga's defaults for what issues 12 and 14 turned off: CORS for any origin, GraphiQL, multipart, body count. */
const BEFORE: Changes['yoga'] = {
  cors: undefined,
  graphiql: { title: 'bench' },
  renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
  multipart: true,
  maxRequestBodySize: undefined,
}

export const VARIANTS: Variant[] = [
  {
    name: 'the service: createGraphqlServer (src/graphql/yoga.ts)',
    build: ({ db, monitor }) => {
      const logger = createLogger('info', { write: () => {} })
      const yoga = createGraphqlServer({
        config: loadConfig({ NODE_ENV: 'production' }),
        context: () => ({ db, monitor, containerName: 'bench', showDetails: false }),
        registry: createMetrics(db, monitor, { showVersions: false }).registry,
        logger,
        logUnexpected: createErrorLog(logger),
      })
      return { fetch: (text) => post(yoga.fetch, text), dispose: () => Promise.resolve(yoga.dispose()) }
    },
  },
  yogaVariant('the same options, rebuilt here (the baseline below)', {}),
  yogaVariant('+ yoga’s request body limit (its default: a stream per body)', {
    yoga: { maxRequestBodySize: undefined },
  }),
  yogaVariant('+ yoga’s default CORS (any origin)', { yoga: { cors: undefined } }),
  yogaVariant('+ CORS with an allow-list of one origin', {
    yoga: { cors: corsOptions(['https://app.example']) },
  }),
  yogaVariant('+ GraphiQL inside yoga', {
    yoga: { graphiql: BEFORE?.graphiql, renderGraphiQL: BEFORE?.renderGraphiQL },
  }),
  yogaVariant('+ multipart parser', { yoga: { multipart: true } }),
  yogaVariant('as before issues 12 and 14 (all four above)', { yoga: BEFORE }),
  yogaVariant('− logging', { logging: false }),
  yogaVariant('− max tokens', { without: ['maxTokens'] }),
  yogaVariant('− max depth', { without: ['maxDepth'] }),
  yogaVariant('− max aliases', { without: ['maxAliases'] }),
  yogaVariant('− max directives', { without: ['maxDirectives'] }),
  yogaVariant('− cost limit', { without: ['costLimit'] }),
  yogaVariant('− block field suggestions', { without: ['suggestions'] }),
  yogaVariant('− our metrics plugin (Prometheus)', { metrics: false }),
  yogaVariant('− our bad-request plugin', { badRequests: false }),
  yogaVariant('− masked errors', { yoga: { maskedErrors: false } }),
  yogaVariant('yoga’s own parse/validation cache (1,024 entries, unbounded in bytes)', {
    yoga: { parserAndValidationCache: true },
  }),
  yogaVariant('− parse/validation cache', { yoga: { parserAndValidationCache: false } }),
  yogaVariant('+ persisted operations, query sent as text', { persisted: true }),
  yogaVariant(
    '+ persisted operations, id sent (validation skipped)',
    { persisted: true },
    JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: PERSISTED_ID } } }),
  ),
  yogaVariant('+ graphql-jit', { jit: true }),
  yogaVariant('+ native fetch API (undici Request/Response)', { yoga: { fetchAPI: nativeFetchApi() } }),
  yogaVariant('bare yoga: every optional part off', {
    logging: false,
    metrics: false,
    badRequests: false,
    yoga: { maskedErrors: false },
    without: ['maxTokens', 'maxDepth', 'maxAliases', 'maxDirectives', 'costLimit', 'suggestions'],
  }),
  {
    name: 'graphql-js execute() alone, parsed once (no HTTP, no envelop)',
    build: ({ db, monitor }) => {
      const document = parse(LAYER_QUERY)
      return {
        fetch: async () => {
          const result = await execute({
            schema,
            document,
            contextValue: { db, monitor, containerName: 'bench', showDetails: false },
          })
          const text = JSON.stringify(result)
          if (!text.includes('Healthy!')) throw new Error(`unexpected answer: ${text}`)
          return text
        },
        dispose: () => Promise.resolve(),
      }
    },
  },
]

export interface LayerRow {
  name: string
  /** Operations per second of this process's CPU time (user + system). */
  opsPerSecond: Spread
  /** Median ÷ the baseline's median, from the same rounds. */
  ratio: number
}

export interface LayerOptions {
  rounds: number
  /** Operations per variant per round. */
  operations: number
  /** Operations in flight at once. */
  concurrency: number
}

let gc: (() => void) | undefined

/** V8's gc(), without starting node with --expose-gc. */
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
}

/** Runs every variant `rounds` times, taking turns, and reports operations/s per variant. */
export async function measureGraphqlLayers(
  settings: ConnectionSettings,
  options: LayerOptions,
): Promise<LayerRow[]> {
  const logger = createLogger('silent')
  const db = createPostgresDatabase(settings, loadConfig({}), logger)
  const monitor = new HealthMonitor(db, { intervalMs: 5000, staleAfterMs: 15_000 }, logger)
  const defaultBody = JSON.stringify({ query: LAYER_QUERY })
  const built = VARIANTS.map((variant) => ({ variant, server: variant.build({ db, monitor }) }))
  const samples = built.map(() => [] as number[])
  try {
    const run = async (index: number, operations: number) => {
      const { variant, server } = built[index] as (typeof built)[number]
      const body = variant.body ?? defaultBody
      let next = 0
      const worker = async () => {
        while (next < operations) {
          next++
          await server.fetch(body)
        }
      }
      // A full collection first, so no variant pays for the garbage of the one before it; then CPU time,
      // not wall time: other processes on the machine slow the clock more than the work per operation.
      collectGarbage()
      const started = process.cpuUsage()
      await Promise.all(Array.from({ length: options.concurrency }, worker))
      const used = process.cpuUsage(started)
      return operations / ((used.user + used.system) / 1e6)
    }
    for (let index = 0; index < built.length; index++) await run(index, Math.ceil(options.operations / 4))
    // Each round starts one variant later, so that no variant always runs first or after the same one.
    for (let round = 0; round < options.rounds; round++)
      for (let step = 0; step < built.length; step++) {
        const index = (step + round) % built.length
        samples[index]?.push(await run(index, options.operations))
      }
  } finally {
    for (const { server } of built) await server.dispose()
    await db.close()
  }
  const baseline = median(samples[1] ?? [])
  return built.map(({ variant }, index) => {
    const opsPerSecond = spread(samples[index] ?? [])
    return { name: variant.name, opsPerSecond, ratio: baseline > 0 ? opsPerSecond.median / baseline : 0 }
  })
}
