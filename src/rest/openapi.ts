/**
 * OpenAPI 3.1 description of the REST routes, served at GET /openapi.json. Tests check every live answer
 * against it (GET, HEAD, OPTIONS, refused methods, unknown paths; database up and down), through Stoplight
 * Prism's proxy and a JSON Schema validator.
 */

import { AUTH_REALM } from '../http/auth.js'
import { healthJsonSchema } from './health-json-schema.js'

/** The methods each REST route answers, as its Allow header lists them (the seed's words and order). */
const REST_METHODS = 'OPTIONS, HEAD, GET'
const REFUSED_METHODS = ['post', 'put', 'patch', 'delete', 'trace'] as const

const ref = (kind: 'schemas' | 'headers' | 'responses' | 'parameters', name: string) => ({
  $ref: `#/components/${kind}/${name}`,
})
const json = (schema: string) => ({ 'application/json': { schema: ref('schemas', schema) } })
const healthJson = { 'application/health+json': { schema: ref('schemas', 'HealthJson') } }

/** Headers every REST answer carries; `extra` adds or overrides some. */
function headers(extra: Record<string, object> = {}) {
  return { 'x-request-id': ref('headers', 'RequestId'), 'Cache-Control': ref('headers', 'NoStore'), ...extra }
}
/** Bodies of 1 KB or more are gzipped for clients that accept it, and then say Vary: Accept-Encoding. */
const mayBeGzipped = {
  Vary: ref('headers', 'VaryAcceptEncoding'),
  'Content-Encoding': ref('headers', 'Gzip'),
}

interface Answer {
  description: string
  headers?: Record<string, object>
  content?: object
}
interface Route {
  /** What operationIds are made of: getHealth, headHealth, optionsHealth, postHealth... */
  name: string
  tag: string
  summary: string
  description?: string
  parameters?: object[]
  /** The answers to GET; HEAD gets the same ones without a body. */
  answers: Record<string, Answer>
  /**
   * Beyond the seed: needs the bearer token when the service has one (AUTH_TOKEN_FILE), for every method
   * but OPTIONS, or only for GET and HEAD asking for health+json (/health).
   */
  guarded?: 'every method' | 'health+json'
}

const internalError: Answer = {
  description: 'An unexpected failure (logged by the service; the answer never says more)',
  headers: headers(),
  content: json('Error'),
}

/**
 * `{}` or the token: the service asks for it only when AUTH_TOKEN_FILE sets one. Without the token it
 * answers 401, with a wrong one too.
 */
const bearerTokenIfSet = [{}, { bearerToken: [] }]
const unauthorized = { '401': ref('responses', 'Unauthorized') }

function route({ name, tag, summary, description, parameters = [], answers, guarded }: Route) {
  const security = guarded ? { security: bearerTokenIfSet } : {}
  const refusedSecurity = guarded === 'every method' ? security : {}
  const common = { tags: [tag], parameters: [ref('parameters', 'RequestId'), ...parameters], ...security }
  const get = {
    ...common,
    operationId: `get${name}`,
    summary,
    ...(description ? { description } : {}),
    responses: { ...answers, ...(guarded ? unauthorized : {}), '500': internalError },
  }
  const head = {
    ...common,
    operationId: `head${name}`,
    summary: `${summary} (headers only)`,
    description: 'The same status and headers as GET, without a body.',
    responses: Object.fromEntries(
      // A shared response ($ref: 401) is kept whole: its content is what GET's would carry.
      Object.entries(get.responses).map(([status, answer]) => [
        status,
        '$ref' in answer ? answer : { description: answer.description, headers: answer.headers },
      ]),
    ),
  }
  const options = {
    tags: [tag],
    operationId: `options${name}`,
    summary: 'The methods this path answers',
    parameters: [ref('parameters', 'RequestId')],
    responses: { '200': ref('responses', 'Options') },
  }
  const refused = Object.fromEntries(
    REFUSED_METHODS.map((method) => [
      method,
      {
        tags: ['Methods not allowed'],
        operationId: `${method}${name}`,
        summary: `${method.toUpperCase()} is not allowed here`,
        parameters: [ref('parameters', 'RequestId')],
        ...refusedSecurity,
        responses: {
          '405': ref('responses', 'MethodNotAllowed'),
          ...(guarded === 'every method' ? unauthorized : {}),
        },
      },
    ]),
  )
  return { get, head, options, ...refused }
}

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'ctera-app',
    version: '1.0.0',
    description:
      'Whether the service can reach its PostgreSQL database, and what that database holds. ' +
      'The GraphQL API at /graphql is described by its own schema (schema.graphql). ' +
      'Every REST path answers OPTIONS, HEAD and GET; other methods get 405 with an Allow header ' +
      '(components.responses.MethodNotAllowed), and paths not listed here get 404 ' +
      '(components.responses.NotFound). Every answer carries an x-request-id header. ' +
      'When the service has a bearer token (AUTH_TOKEN_FILE), the operations that list the bearerToken ' +
      'security scheme, /health asking for health+json, /graphql and paths not listed here answer 401 ' +
      '(components.responses.Unauthorized) without it; OPTIONS, the seed\u2019s routes and the probes never do.',
  },
  servers: [{ url: '/', description: 'The service that serves this document' }],
  tags: [
    { name: 'Seed contract', description: 'The original Flask service\u2019s routes, byte for byte' },
    { name: 'Probes', description: 'For orchestrators and load balancers' },
    { name: 'Monitoring', description: 'For Prometheus' },
    { name: 'API description', description: 'This document' },
    { name: 'Methods not allowed', description: 'Each REST path refuses these with 405' },
  ],
  paths: {
    '/health': route({
      name: 'Health',
      tag: 'Seed contract',
      summary: 'Live database check, in the original service\u2019s words',
      description:
        'Checks the database now. Sends application/health+json instead when the Accept header prefers it ' +
        'to application/json (quality values count; */* gets the seed body). The seed body never needs ' +
        'the bearer token; health+json does, when the service has one (then 401 without it).',
      guarded: 'health+json',
      answers: {
        '200': {
          description: 'Healthy (or pass/warn in health+json)',
          headers: headers({ Vary: ref('headers', 'VaryAccept') }),
          content: { ...json('SeedHealth'), ...healthJson },
        },
        '503': {
          description: 'Unhealthy (fail in health+json)',
          headers: headers({ Vary: ref('headers', 'VaryAccept') }),
          content: { ...json('SeedHealth'), ...healthJson },
        },
      },
    }),
    '/number_of_tables': route({
      name: 'NumberOfTables',
      tag: 'Seed contract',
      summary: 'The number of tables the service user can see, as a string',
      answers: {
        '200': { description: 'The count', headers: headers(), content: json('NumberOfTables') },
        '503': {
          description:
            'The database is unavailable (DATABASE_UNAVAILABLE, Retry-After: 5), or up but busy: every ' +
            'connection in use, or the query hit its timeout (DATABASE_BUSY, Retry-After: 1)',
          headers: headers({ 'Retry-After': ref('headers', 'RetryAfter') }),
          content: json('Error'),
        },
      },
    }),
    '/healthz': route({
      name: 'Healthz',
      tag: 'Probes',
      summary: 'Live database check in the IETF health+json format',
      guarded: 'every method',
      answers: {
        '200': { description: 'pass or warn', headers: headers(mayBeGzipped), content: healthJson },
        '503': { description: 'fail', headers: headers(mayBeGzipped), content: healthJson },
      },
    }),
    '/livez': route({
      name: 'Livez',
      tag: 'Probes',
      summary: 'Liveness: the process answers. Never touches the database.',
      answers: { '200': { description: 'Alive', headers: headers(), content: json('Liveness') } },
    }),
    '/readyz': route({
      name: 'Readyz',
      tag: 'Probes',
      summary: 'Readiness, from the background monitor\u2019s latest check; answers at once',
      answers: {
        '200': { description: 'Ready', headers: headers(), content: json('Readiness') },
        '503': { description: 'Not ready', headers: headers(), content: json('Readiness') },
      },
    }),
    '/metrics': route({
      name: 'Metrics',
      tag: 'Monitoring',
      summary: 'Prometheus metrics (text exposition format 0.0.4)',
      guarded: 'every method',
      answers: {
        '200': {
          description: 'Metrics (gzipped when the client accepts it, as Prometheus does)',
          headers: headers(mayBeGzipped),
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    }),
    '/openapi.json': route({
      name: 'OpenApi',
      tag: 'API description',
      summary: 'This document',
      guarded: 'every method',
      description:
        'It changes only with a new version of the service: cacheable for 5 minutes, then revalidated ' +
        'with If-None-Match.',
      parameters: [ref('parameters', 'IfNoneMatch')],
      answers: {
        '200': {
          description: 'OpenAPI 3.1',
          headers: {
            ...headers(mayBeGzipped),
            'Cache-Control': ref('headers', 'Cacheable'),
            ETag: ref('headers', 'ETag'),
          },
          content: { 'application/json': { schema: { type: 'object' } } },
        },
        '304': {
          description: 'Not modified: the copy the client holds (If-None-Match) is current',
          headers: {
            ...headers({ Vary: ref('headers', 'VaryAcceptEncoding') }),
            'Cache-Control': ref('headers', 'Cacheable'),
            ETag: ref('headers', 'ETag'),
          },
        },
      },
    }),
  },
  components: {
    parameters: {
      RequestId: {
        name: 'x-request-id',
        in: 'header',
        required: false,
        description:
          'Echoed in the answer and written in the log line. Anything else than 1 to 128 of these ' +
          'characters is replaced with a new UUID.',
        schema: { type: 'string', pattern: '^[\\w.:@/+=-]{1,128}$' },
      },
      IfNoneMatch: {
        name: 'If-None-Match',
        in: 'header',
        required: false,
        description: 'The ETag of a copy the client holds: 304 when it is still current.',
        schema: { type: 'string' },
      },
    },
    headers: {
      RequestId: {
        description:
          'The request\u2019s id: the caller\u2019s x-request-id when it is sane, else a new UUID.',
        required: true,
        schema: { type: 'string', pattern: '^[\\w.:@/+=-]{1,128}$' },
      },
      NoStore: {
        description: 'A health answer must never come from a cache.',
        required: true,
        schema: { const: 'no-store' },
      },
      Cacheable: {
        description: 'The document changes only with a new version of the service.',
        required: true,
        schema: { const: 'public, max-age=300' },
      },
      ETag: {
        description: 'A weak validator of the document, for If-None-Match.',
        required: true,
        schema: { type: 'string', pattern: '^W/"[\\w-]+"$' },
      },
      VaryAccept: {
        description:
          'The answer depends on Accept (seed body or health+json), and on Accept-Encoding when gzipped.',
        required: true,
        schema: { enum: ['Accept', 'Accept, Accept-Encoding'] },
      },
      VaryAcceptEncoding: {
        description: 'Present on bodies of 1 KB or more, which are gzipped for clients that accept it.',
        schema: { const: 'Accept-Encoding' },
      },
      Gzip: {
        description:
          'Present when the body is gzipped: 1 KB or more, and the client sent Accept-Encoding: gzip.',
        schema: { const: 'gzip' },
      },
      RetryAfter: {
        description: 'Seconds to wait before asking again.',
        required: true,
        schema: { type: 'string', pattern: '^[0-9]+$' },
      },
      WwwAuthenticate: {
        description: 'The challenge of RFC 6750: the realm, and invalid_token when a wrong token came.',
        required: true,
        schema: {
          enum: [`Bearer realm="${AUTH_REALM}"`, `Bearer realm="${AUTH_REALM}", error="invalid_token"`],
        },
      },
      Allow: {
        description: 'The methods the path answers.',
        required: true,
        schema: { const: REST_METHODS },
      },
    },
    responses: {
      Options: {
        description: 'The methods the path answers, and no body',
        headers: headers({ Allow: ref('headers', 'Allow') }),
      },
      MethodNotAllowed: {
        description: 'The path exists, but does not answer this method',
        headers: headers({ Allow: ref('headers', 'Allow') }),
        content: json('Error'),
      },
      NotFound: {
        description: 'No such path (the GraphQL API is at /graphql)',
        headers: headers(),
        content: json('Error'),
      },
      Unauthorized: {
        description:
          'The service has a bearer token (AUTH_TOKEN_FILE) and the request did not carry it ' +
          '(error="invalid_token": it carried another)',
        headers: headers({ 'WWW-Authenticate': ref('headers', 'WwwAuthenticate') }),
        content: json('Error'),
      },
    },
    securitySchemes: {
      bearerToken: {
        type: 'http',
        scheme: 'bearer',
        description:
          'The token of the file AUTH_TOKEN_FILE names, as `Authorization: Bearer <token>`. Asked for only ' +
          'when the service has one; without it, everything is open (and the network is what guards it).',
      },
    },
    schemas: {
      SeedHealth: {
        type: 'object',
        required: ['container', 'status'],
        additionalProperties: false,
        properties: { container: { type: 'string' }, status: { enum: ['Healthy!', 'Unhealthy'] } },
      },
      NumberOfTables: {
        type: 'object',
        required: ['number_of_tables'],
        additionalProperties: false,
        properties: { number_of_tables: { type: 'string', pattern: '^[0-9]+$' } },
      },
      Error: {
        type: 'object',
        required: ['error', 'code'],
        additionalProperties: false,
        properties: {
          error: { type: 'string' },
          code: {
            enum: [
              'DATABASE_UNAVAILABLE',
              'DATABASE_BUSY',
              'NOT_FOUND',
              'METHOD_NOT_ALLOWED',
              'UNAUTHORIZED',
              'INTERNAL_SERVER_ERROR',
            ],
          },
          reason: { type: 'string', description: 'One of a fixed list: never driver text.' },
        },
      },
      Liveness: {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: { status: { const: 'alive' }, uptimeSeconds: { type: 'number' } },
      },
      Readiness: {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: {
          status: { enum: ['ready', 'not ready'] },
          reason: {
            enum: [
              'starting',
              'shutting down',
              'database unreachable',
              'not primary',
              'replica lagging',
              'stale',
            ],
          },
        },
      },
      HealthJson: healthJsonSchema,
    },
  },
} as const
