import type { IncomingMessage, ServerResponse } from 'node:http'
import { type DocumentNode, type ExecutionResult, GraphQLError, getOperationAST } from 'graphql'
import { createGraphQLError, maskError, processRegularResult } from 'graphql-yoga'
import { lowerCaseAllow } from './allow-header.js'
import type { Cache } from './parse-cache.js'
import type { GraphqlServer } from './yoga.js'

/** The two answers yoga's regular result processor gives; anything else (streams, 406) is yoga's. */
export type RegularMediaType = 'application/json' | 'application/graphql-response+json'

// Yoga's result processors in its own order, each with the media types it answers (graphql-yoga 5,
// plugins/use-result-processor.ts): the last match wins, so this order decides ties.
const PROCESSOR_MEDIA_TYPES = [
  ['text/event-stream'],
  ['multipart/mixed'],
  ['application/graphql-response+json', 'application/json'],
] as const
const PARAMS = new Set(['query', 'variables', 'operationName', 'extensions'])

/**
 * The rule that chooses the path, on the request's line and headers alone (nothing is read yet): a
 * POST of JSON, or a GET with a query string, with no Origin (so no CORS answer to make), whose Accept
 * header makes yoga answer with one JSON document rather than a stream. Returns the media type yoga
 * would answer with, or undefined for yoga's own path.
 */
export function fastPathMediaType(req: IncomingMessage): RegularMediaType | undefined {
  const { headers, method } = req
  if (headers.origin !== undefined) return undefined
  if (method === 'POST') {
    const type = headers['content-type']
    if (type !== 'application/json' && type !== 'application/json; charset=utf-8') return undefined
  } else if (method !== 'GET' || !req.url?.includes('?')) return undefined
  return negotiatedMediaType(headers.accept)
}

/** Yoga's own choice among its result processors (accept.ts and use-result-processor.ts), for one result. */
export function negotiatedMediaType(accept: string | undefined): RegularMediaType | undefined {
  if (accept === undefined || accept === 'application/json') return 'application/json'
  if (accept === 'application/graphql-response+json') return accept
  const asked: string[] = []
  for (const range of accept.replace(/\s/g, '').toLowerCase().split(',')) {
    const [type = '', ...params] = range.split(';')
    const charset = params.find((param) => param.includes('charset=')) ?? 'charset=utf-8'
    if (charset === 'charset=utf-8') asked.push(type)
  }
  asked.reverse()
  let chosen: string | undefined
  for (const processor of PROCESSOR_MEDIA_TYPES)
    for (const type of asked) for (const offered of processor) if (matches(offered, type)) chosen = offered
  return chosen === 'application/json' || chosen === 'application/graphql-response+json' ? chosen : undefined
}

/** Yoga's isMatchingMediaType: the wildcards are on the client's side (`application/*` and the like). */
function matches(offered: string, asked: string): boolean {
  const [offeredType, offeredSubtype] = offered.split('/')
  const [askedType, askedSubtype] = asked.split('/')
  return (
    (askedType === '*' || askedType === offeredType) &&
    (askedSubtype === '*' || askedSubtype === offeredSubtype)
  )
}

export interface FastPathOptions {
  /** Yoga's document cache (parse-cache.ts): only documents yoga has parsed before take the fast path. */
  documentCache: Cache<DocumentNode>
  /** CORS_ORIGINS is set: yoga's answers then carry `Vary: Origin` (cors.ts), and so must these. */
  varyOrigin: boolean
}

interface Params {
  query: string
  variables?: Record<string, unknown> | null
  operationName?: string
  extensions?: Record<string, unknown> | null
}

/**
 * GraphQL without WHATWG objects for the common request: Node's request is read into one buffer, its
 * params checked as yoga checks them, run through yoga's envelop (`getEnveloped()`: parse, validate and
 * execute with every plugin: limits, masking, metrics, tracing), and answered with one write. Whatever
 * this path does not know to answer exactly as yoga would goes to yoga itself, before anything has run:
 * a body that is not a JSON object of the usual params, a document yoga has not parsed yet (so yoga, not
 * this path, parses and caches it), a subscription. test/hardening/graphql-fast-path.test.ts holds both
 * paths to the same bytes.
 */
export function createFastPath(yoga: GraphqlServer, { documentCache, varyOrigin }: FastPathOptions) {
  // Read once: each read through yoga's adapter (a Proxy) binds a new function.
  const { requestListener, getEnveloped, fetchAPI, logger } = yoga
  let answered = 0
  // Documents that passed validation here. Validation depends only on the document, the schema and the
  // rules, all fixed for this yoga: a document valid once is valid again, and its second validation (a
  // dozen hooks and a cache lookup) can be skipped. Weak: yoga's document cache decides what lives.
  const validated = new WeakSet<DocumentNode>()

  /** What yoga's handleParams does (process-request.ts), with validation done once per document. */
  async function run(req: IncomingMessage, res: ServerResponse, params: Params): Promise<ExecutionResult> {
    // The initial context as yoga builds it: the server's context (req, res), the request and the params.
    const request = { method: req.method, url: req.url, headers: req.headers }
    const enveloped = getEnveloped({ req, res, request, params } as never)
    try {
      // Yoga's cache answers; the hooks still run (GET mutations refused, the metrics' labels set).
      const document = enveloped.parse(params.query)
      if (!validated.has(document)) {
        const errors = enveloped.validate(enveloped.schema, document)
        if (errors.length > 0) return { errors }
        validated.add(document)
      }
      const contextValue = await enveloped.contextFactory()
      return (await enveloped.execute({
        schema: enveloped.schema,
        document,
        contextValue,
        variableValues: params.variables,
        operationName: params.operationName,
      })) as ExecutionResult
    } catch (error) {
      return { errors: [masked(error)] }
    }
  }

  /** Yoga's handleError (error.ts) for one error: a GraphQL error as it is, anything else masked and logged. */
  function masked(error: unknown): GraphQLError {
    const maskedError = maskError(error, 'Unexpected error.', false) as Error
    if (maskedError !== error) logger.error(error)
    return maskedError instanceof GraphQLError
      ? maskedError
      : createGraphQLError(maskedError.message, { originalError: maskedError })
  }

  const yogaPath = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
    // @whatwg-node/server takes a body already read from `req.body` (as body-parsers leave it).
    if (body) (req as IncomingMessage & { body?: Buffer }).body = body
    return requestListener(req, res)
  }

  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    mediaType: RegularMediaType,
  ): Promise<void> {
    let body: Buffer | undefined
    if (req.method === 'POST') {
      body = await readBody(req)
      if (!body) return // the client went away: nobody to answer
    }
    const params = body ? paramsFromJson(body) : paramsFromUrl(req.url ?? '')
    const document = params && documentCache.get(params.query)
    if (!params || !document || getOperationAST(document, params.operationName)?.operation === 'subscription')
      return yogaPath(req, res, body)

    answered++
    const result = await run(req, res, params)
    if (res.destroyed) return
    if (result.errors === undefined && result.extensions === undefined) {
      // graphql-jit, when on, leaves its compiled serialiser on the result; yoga uses it too.
      const stringify = (result as { stringify?: (value: unknown) => string }).stringify ?? JSON.stringify
      const text = stringify(result)
      const headers: Record<string, string> = {
        'content-type': `${mediaType}; charset=utf-8`,
        'content-length': String(Buffer.byteLength(text)),
      }
      if (varyOrigin) headers.vary = 'Origin'
      res.writeHead(200, headers).end(text)
      return
    }
    // Errors are rarer: yoga's own processor decides their status, headers and shape, and they are
    // written as yoga's Node adapter writes them (setHeaders, then writeHead), in the same order.
    const response = processRegularResult(result, fetchAPI, mediaType)
    // What the service's onResponse plugins do to yoga's answers, in their order (yoga.ts): cors.ts, allow-header.ts.
    if (varyOrigin) response.headers.append('vary', 'Origin')
    lowerCaseAllow(response.headers)
    const text = await response.text()
    res.setHeaders(response.headers as unknown as Headers)
    res.writeHead(response.status).end(text)
  }

  return {
    /** Requests the fast path answered itself, for tests that must know it was taken. */
    get answered() {
      return answered
    },
    /** Answers a GraphQL request by the fast path when the rule allows, else by yoga's. */
    handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
      const mediaType = fastPathMediaType(req)
      return mediaType ? answer(req, res, mediaType) : yogaPath(req, res)
    },
  }
}

/** The whole body, or undefined when the client went away before sending it. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
    req.once('error', () => resolve(undefined))
    req.once('close', () => {
      if (!req.complete) resolve(undefined)
    })
  })
}

/** The params when the body is a JSON object of exactly the usual kinds; else undefined (yoga's to judge). */
function paramsFromJson(body: Buffer): Params | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString())
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  const params = parsed as Record<string, unknown>
  for (const key in params) if (!PARAMS.has(key)) return undefined
  const { query, variables, operationName, extensions } = params
  if (typeof query !== 'string' || query === '') return undefined
  if (!isObjectOrAbsent(variables) || !isObjectOrAbsent(extensions)) return undefined
  if (operationName !== undefined && typeof operationName !== 'string') return undefined
  return params as unknown as Params
}

/** As yoga reads a GET (request-parser/utils.ts), when that reading cannot fail. */
function paramsFromUrl(url: string): Params | undefined {
  const search = new URLSearchParams(url.slice(url.indexOf('?') + 1))
  for (const key of search.keys()) if (!PARAMS.has(key)) return undefined
  const query = search.get('query')
  if (!query) return undefined
  const params: Params = { query, operationName: search.get('operationName') || undefined }
  const variables = search.get('variables')
  const extensions = search.get('extensions')
  try {
    params.variables = variables ? JSON.parse(variables) : undefined
    params.extensions = extensions ? JSON.parse(extensions) : undefined
  } catch {
    return undefined
  }
  if (!isObjectOrAbsent(params.variables) || !isObjectOrAbsent(params.extensions)) return undefined
  return params
}

function isObjectOrAbsent(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value))
}
