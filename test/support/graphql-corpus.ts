import fc from 'fast-check'
import { GRAPHQL_LIMITS } from '../../src/graphql/limits.js'
import type { RawRequest } from './raw-http.js'

/**
 * Requests to /graphql for the fast path's differential test (test/hardening/graphql-fast-path.test.ts):
 * every field of the answers they get is the same from one call to the next (no latency, no time).
 */

export interface Params {
  query: string
  variables?: unknown
  operationName?: unknown
  extensions?: unknown
}

const LIMITS = {
  tokens: `{ ${'__typename '.repeat(GRAPHQL_LIMITS.maxTokens + 10)} }`,
  depth: `{ ${'a { '.repeat(GRAPHQL_LIMITS.maxDepth + 2)}b${' }'.repeat(GRAPHQL_LIMITS.maxDepth + 2)} }`,
  aliases: `{ ${Array.from({ length: GRAPHQL_LIMITS.maxAliases + 1 }, (_, index) => `a${index}: __typename`).join(' ')} }`,
  directives: `{ health ${'@include(if: true) '.repeat(GRAPHQL_LIMITS.maxDirectives + 1)} { status } }`,
  cost: `{ ${Array.from({ length: 15 }, (_, index) => `d${index}: database { name tables(first: 500) { nodes { schema name kind rowEstimate sizeBytes } } }`).join(' ')} }`,
}

const TWO_OPERATIONS = 'query A { health { status } } query B { numberOfTables }'
const WITH_VARIABLE = 'query Tables($system: Boolean) { numberOfTables(includeSystem: $system) }'

/** Params that answer 200 with data, then every kind of error a document or its params can hold. */
export const PARAMS: Params[] = [
  { query: '{ health { status } }' },
  { query: '{ health { healthy status container reason role } }' },
  { query: '{ __typename }' },
  {
    query:
      'query Overview { health { status } numberOfTables userTables: numberOfTables(includeSystem: false) }',
  },
  { query: 'query Overview { health { status } }', operationName: 'Overview' },
  { query: WITH_VARIABLE, variables: { system: false } },
  { query: WITH_VARIABLE, variables: { system: true }, operationName: 'Tables' },
  { query: WITH_VARIABLE, variables: {} },
  { query: WITH_VARIABLE, variables: null },
  { query: WITH_VARIABLE, variables: { system: 'yes' } }, // bad variable
  { query: WITH_VARIABLE, variables: { other: 1 } },
  { query: TWO_OPERATIONS, operationName: 'A' },
  { query: TWO_OPERATIONS, operationName: 'B' },
  { query: TWO_OPERATIONS }, // which one?
  { query: TWO_OPERATIONS, operationName: 'C' },
  { query: '{ health { status } }', extensions: {} },
  { query: '{ health { status } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } },
  { query: '{ helth { status } }' }, // unknown field
  { query: '{ health { nope } }' },
  { query: '{ health { status }' }, // parse error
  { query: 'query {' },
  { query: '{ __schema { queryType { name } } }' }, // refused when introspection is off
  { query: 'mutation { health { status } }' },
  { query: '{ numberOfTables(schema: "a\\u0000b") }' }, // refused input
  { query: '{ numberOfTables(first: 1) }' }, // unknown argument
  ...Object.values(LIMITS).map((query) => ({ query })),
]

export const SUBSCRIPTION: Params = { query: 'subscription { healthChanged { status } }' }
/** Fails only while the database is down, or when the service role may not run pg_database_size. */
export const DATABASE_PARAMS: Params[] = [
  { query: '{ database { name sizeBytes } }' },
  { query: '{ numberOfTables }' },
  { query: '{ health { healthy status reason } }' },
]

/** Accept headers: none, each type yoga answers, lists, parameters, and types it refuses. */
export const ACCEPTS: Array<string | undefined> = [
  undefined,
  '*/*',
  'application/json',
  'application/graphql-response+json',
  'application/graphql-response+json, application/json',
  'application/json, application/graphql-response+json',
  'application/graphql-response+json;charset=utf-8',
  'application/json; charset=latin1',
  'application/json;q=0.5, application/graphql-response+json',
  'application/*',
  'application/xml',
  'text/event-stream',
  'multipart/mixed',
  'multipart/mixed;subscriptionSpec="1.0", application/json',
  'text/html',
]

/** Accepts that never open a stream, for subscriptions. */
export const JSON_ACCEPTS = ['application/json', 'application/graphql-response+json']

const JSON_TYPE = 'application/json'

export function post(params: unknown, accept?: string, contentType = JSON_TYPE): RawRequest {
  const headers: Record<string, string> = {}
  if (contentType) headers['content-type'] = contentType
  if (accept !== undefined) headers.accept = accept
  return { method: 'POST', path: '/graphql', headers, body: JSON.stringify(params) }
}

export function get(params: Params, accept?: string, method = 'GET'): RawRequest {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) search.set(key, typeof value === 'string' ? value : JSON.stringify(value))
  }
  return { method, path: `/graphql?${search}`, headers: accept === undefined ? {} : { accept } }
}

/** Bodies yoga must judge: not JSON, not an object, params of the wrong kind. */
export const MALFORMED_BODIES = [
  '',
  '{',
  'null',
  '[]',
  '"{ health { status } }"',
  '1',
  '{"query": 1}',
  '{"query": ""}',
  '{"variables": {}}',
  '{"query": "{ health { status } }", "variables": "x"}',
  '{"query": "{ health { status } }", "variables": [1]}',
  '{"query": "{ health { status } }", "extensions": 5}',
  '{"query": "{ health { status } }", "operationName": 5}',
  '{"query": "{ health { status } }", "extra": 1}',
  '[{"query": "{ health { status } }"}]',
  '\uFEFF{"query": "{ health { status } }"}',
  '{"query": "{ health { status } }"} trailing',
]

export const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'application/json;charset=utf-8',
  'application/graphql+json',
  'APPLICATION/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
]

/** The whole fixed corpus for one service configuration. */
export function fixedCorpus(): RawRequest[] {
  const corpus: RawRequest[] = []
  for (const params of PARAMS) {
    for (const accept of ACCEPTS) corpus.push(post(params, accept), get(params, accept))
  }
  for (const accept of JSON_ACCEPTS) corpus.push(post(SUBSCRIPTION, accept), get(SUBSCRIPTION, accept))
  for (const body of MALFORMED_BODIES) {
    for (const accept of [undefined, 'application/json', 'application/graphql-response+json'])
      corpus.push({ ...post({}, accept), body })
  }
  for (const contentType of CONTENT_TYPES) corpus.push(post(PARAMS[0], undefined, contentType))
  const plain = PARAMS[0] as Params
  corpus.push(
    get(plain, 'application/json', 'HEAD'),
    { method: 'GET', path: '/graphql?', headers: { accept: JSON_TYPE } },
    { method: 'GET', path: '/graphql?query=%7B%20__typename%20%7D&variables=%7B', headers: {} },
    { method: 'GET', path: '/graphql?query=%7B%20__typename%20%7D&other=1', headers: {} },
    { method: 'GET', path: '/graphql?query=%7B%20__typename%20%7D&query=%7B', headers: {} },
    { ...post(plain), headers: { ...post(plain).headers, origin: 'https://app.example' } },
    { ...post(plain), headers: { ...post(plain).headers, origin: 'https://elsewhere.example' } },
    { ...post(plain), method: 'PUT' },
  )
  return corpus
}

const FIELDS = [
  'health { status }',
  'health { healthy }',
  'health { status reason container }',
  '__typename',
  'numberOfTables',
  'numberOfTables(includeSystem: false)',
  'helth',
  'health',
  'health { status nope }',
  '...on Query { __typename }',
]

const acceptArbitrary = fc.oneof(
  fc.constantFrom(...ACCEPTS),
  fc
    .array(
      fc.tuple(
        fc.constantFrom(
          'application/json',
          'application/graphql-response+json',
          '*/*',
          'text/event-stream',
          'multipart/mixed',
          'text/plain',
          'application/*',
        ),
        fc.constantFrom('', ';q=0.5', ';charset=utf-8', ';charset=utf-16', ' ; q=1'),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((ranges) => ranges.map(([type, parameter]) => type + parameter).join(', ')),
)

const documentArbitrary = fc.oneof(
  fc.constantFrom(...PARAMS.map((params) => params.query)),
  fc
    .array(fc.tuple(fc.option(fc.constantFrom('a', 'b', 'c')), fc.constantFrom(...FIELDS)), {
      minLength: 1,
      maxLength: 5,
    })
    .map(
      (fields) => `{ ${fields.map(([alias, field]) => (alias ? `${alias}: ${field}` : field)).join(' ')} }`,
    ),
  fc.string({ maxLength: 40 }),
)

/** Generated requests: documents built from the schema's fields and garbage, any params, any Accept. */
export const requestArbitrary: fc.Arbitrary<RawRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST'),
    accept: fc.option(acceptArbitrary, { nil: undefined }),
    query: documentArbitrary,
    variables: fc.option(
      fc.oneof(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      { nil: undefined },
    ),
    operationName: fc.option(
      fc.oneof(fc.constantFrom('A', 'B', 'Overview', 'Tables'), fc.string({ maxLength: 8 })),
      {
        nil: undefined,
      },
    ),
    garbage: fc.option(fc.string({ maxLength: 30 }), { freq: 8, nil: undefined }),
  })
  .map(({ method, accept, query, variables, operationName, garbage }) => {
    const params = { query, variables, operationName }
    if (method === 'GET') return get(params, accept)
    const request = post(params, accept)
    return garbage === undefined ? request : { ...request, body: garbage }
  })
