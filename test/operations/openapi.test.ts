import { Validator } from '@seriousme/openapi-schema-validator'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { findFreePort } from '../../src/net/free-port.js'
import { createContractChecker, type LiveAnswer, send } from '../support/openapi-contract.js'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let up: RunningService
let down: RunningService
// HEALTH_DETAILS adds the version, the failure reason and the history to health+json.
let detailedUp: RunningService
let detailedDown: RunningService
// AUTH_TOKEN_FILE: the routes beyond the seed answer 401 without the token.
let guarded: RunningService
const TOKEN = 'openapi-contract-token-0123456789'
type Operation = { operationId?: string; responses: Record<string, unknown>; security?: unknown }
let document: {
  servers: Array<{ url: string }>
  paths: Record<string, Record<string, Operation>>
  components: Record<string, Record<string, unknown>>
}

beforeAll(async () => {
  up = await startService(postgres.app)
  down = await startService({ ...postgres.app, port: await findFreePort() })
  detailedUp = await startService(postgres.app, { healthDetails: true })
  detailedDown = await startService({ ...postgres.app, port: await findFreePort() }, { healthDetails: true })
  guarded = await startService(postgres.app, { authToken: TOKEN })
  for (const service of [up, down, detailedUp, detailedDown, guarded]) await service.monitor.check()
  document = await (await fetch(`${up.url}/openapi.json`)).json()
})
afterAll(async () => {
  for (const service of [up, down, detailedUp, detailedDown, guarded]) await service?.close()
})

const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE']
const UNKNOWN_PATHS = ['/nope', '/health/', '/HEALTH', '/graphql/x', '/openapi.yaml']

/** Every method on every described path, and the header variants that change an answer. */
async function everyAnswer(base: string, extra: Record<string, string> = {}): Promise<LiveAnswer[]> {
  const requests: Array<[string, string, Record<string, string>]> = []
  for (const path of Object.keys(document.paths))
    for (const method of METHODS) {
      requests.push([method, path, extra])
      requests.push([method, path, { ...extra, 'accept-encoding': 'gzip', 'x-request-id': 'contract-check' }])
    }
  for (const accept of ['application/health+json', 'application/health+json;q=0.9, application/json'])
    for (const method of ['GET', 'HEAD'])
      requests.push([method, '/health', { ...extra, accept, 'accept-encoding': 'gzip' }])
  for (const path of UNKNOWN_PATHS) for (const method of ['GET', 'POST']) requests.push([method, path, extra])
  const answers: LiveAnswer[] = []
  for (const [method, path, headers] of requests) answers.push(await send(base, method, path, headers))
  return answers
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator()

    const result = await validator.validate(document as never)

    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('describes every REST route the app serves, each with GET, HEAD, OPTIONS and the refused methods', () => {
    expect(Object.keys(document.paths).sort()).toEqual(
      ['/health', '/healthz', '/livez', '/metrics', '/number_of_tables', '/openapi.json', '/readyz'].sort(),
    )
    for (const [path, item] of Object.entries(document.paths)) {
      expect(Object.keys(item).sort(), path).toEqual(
        ['delete', 'get', 'head', 'options', 'patch', 'post', 'put', 'trace'].sort(),
      )
      // 401 too where the bearer token guards every method (when the service has one).
      const refused = item.post?.security ? ['401', '405'] : ['405']
      expect(Object.keys(item.post?.responses ?? {}), path).toEqual(refused)
    }
  })

  it('names the routes that may need the bearer token: all but the seed\u2019s and the probes', () => {
    const guarded = Object.entries(document.paths)
      .filter(([, item]) => item.get?.security)
      .map(([path]) => path)

    expect(guarded.sort()).toEqual(['/health', '/healthz', '/metrics', '/openapi.json'])
    expect(document.paths['/health']?.get?.security).toEqual([{}, { bearerToken: [] }])
    expect(document.paths['/health']?.post?.security).toBeUndefined()
    expect(document.components.securitySchemes).toEqual({
      bearerToken: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    })
  })

  it('names every operation (unique operationIds) and its server', () => {
    const ids = Object.values(document.paths).flatMap((item) =>
      Object.values(item).map((operation) => operation.operationId),
    )

    expect(ids.every((id) => typeof id === 'string' && /^[a-z]+[A-Za-z]+$/.test(id))).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toContain('getNumberOfTables')
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })])
  })

  it('every live answer matches it: each method on each path, database up and down, unknown paths', async () => {
    const violations = createContractChecker(document)

    const answers = [...(await everyAnswer(up.url)), ...(await everyAnswer(down.url))]
    for (const service of [detailedUp, detailedDown]) {
      answers.push(await send(service.url, 'GET', '/healthz'))
      answers.push(await send(service.url, 'GET', '/health', { accept: 'application/health+json' }))
    }

    expect(answers.flatMap(violations)).toEqual([])
    // What was covered: the check is only as good as the answers it saw.
    const seen = new Set(answers.map((answer) => `${answer.method} ${answer.status}`))
    for (const kind of [
      'GET 200',
      'GET 503',
      'HEAD 200',
      'HEAD 503',
      'OPTIONS 200',
      'POST 405',
      'TRACE 405',
      'GET 404',
    ])
      expect(seen, kind).toContain(kind)
    expect(answers.some((answer) => answer.headers['content-encoding'] === 'gzip')).toBe(true)
    expect(answers.some((answer) => answer.headers['retry-after'] === '5')).toBe(true)
    expect(answers.filter((answer) => /^\{"status".*"history"/.test(answer.body))).toHaveLength(4)
    expect(answers.length).toBeGreaterThan(250)
  })

  it('with a bearer token set, every answer matches it too: without the token, with a wrong one, with it', async () => {
    const violations = createContractChecker(document)

    const without = await everyAnswer(guarded.url)
    const wrong = await everyAnswer(guarded.url, { authorization: 'Bearer not-the-token-0123456789' })
    const right = await everyAnswer(guarded.url, { authorization: `Bearer ${TOKEN}` })

    expect([...without, ...wrong, ...right].flatMap(violations)).toEqual([])
    const refused = (answers: LiveAnswer[]) =>
      new Set(
        answers.filter((answer) => answer.status === 401).map((answer) => `${answer.method} ${answer.path}`),
      )
    for (const kind of ['GET /metrics', 'HEAD /healthz', 'POST /openapi.json', 'GET /health', 'GET /nope'])
      expect(refused(without), kind).toContain(kind)
    expect(refused(wrong)).toEqual(refused(without))
    expect(refused(right).size).toBe(0)
    for (const open of [
      'GET /livez',
      'GET /readyz',
      'GET /number_of_tables',
      'OPTIONS /metrics',
      'POST /health',
    ])
      expect(refused(without), open).not.toContain(open)
  })

  it('is cacheable: a weak ETag shared by the plain and gzipped bytes, 304 on If-None-Match, no body', async () => {
    const violations = createContractChecker(document)
    const plain = await send(up.url, 'GET', '/openapi.json')
    const gzipped = await send(up.url, 'GET', '/openapi.json', { 'accept-encoding': 'gzip' })
    const etag = plain.headers.etag ?? ''

    const revalidated = await send(up.url, 'GET', '/openapi.json', { 'if-none-match': etag })
    const headOnly = await send(up.url, 'HEAD', '/openapi.json', { 'if-none-match': `"other", ${etag}` })
    const changed = await send(up.url, 'GET', '/openapi.json', { 'if-none-match': 'W/"an-older-one"' })

    expect(plain.headers['cache-control']).toBe('public, max-age=300')
    expect(etag).toMatch(/^W\/"[\w-]+"$/)
    expect(gzipped.headers['content-encoding']).toBe('gzip')
    expect(gzipped.headers.etag).toBe(etag)
    expect(revalidated.status).toBe(304)
    expect(revalidated.body).toBe('')
    expect(revalidated.headers['content-length']).toBeUndefined()
    expect(revalidated.headers.etag).toBe(etag)
    expect(headOnly.status).toBe(304)
    expect(changed.status).toBe(200)
    expect(JSON.parse(changed.body)).toEqual(document)
    expect([plain, gzipped, revalidated, headOnly, changed].flatMap(violations)).toEqual([])
  })

  it('the check can fail: a missing header, an undescribed header, a wrong body, an undescribed method', async () => {
    const broken = structuredClone(document) as typeof document & Record<string, never>
    const headers = broken.components.headers as Record<string, { schema: object }>
    const tables = broken.paths['/number_of_tables'] as Record<string, Operation>
    const notFound = tables.get?.responses['503'] as { headers: Record<string, unknown> }
    delete notFound.headers['Retry-After']
    headers.RequestId = { ...headers.RequestId, schema: { type: 'string', pattern: '^never$' } } as never
    ;(broken.components.schemas as Record<string, object>).Liveness = { type: 'object', required: ['never'] }
    delete tables.trace
    const violations = createContractChecker(broken)

    const found = [
      ...violations(await send(down.url, 'GET', '/number_of_tables')),
      ...violations(await send(up.url, 'GET', '/livez')),
      ...violations(await send(up.url, 'TRACE', '/number_of_tables')),
    ]

    expect(found).toEqual([
      expect.stringMatching(/^GET \/number_of_tables 503: header x-request-id: .* must match pattern/),
      'GET /number_of_tables 503: header retry-after is sent but not described',
      expect.stringMatching(/^GET \/livez 200: header x-request-id/),
      expect.stringMatching(/^GET \/livez 200: body: data must have required property 'never'/),
      'TRACE /number_of_tables 405: the method is not described for this path',
    ])
  })
})
