import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { GRAPHQL_LIMITS } from '../../src/graphql/limits.js'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let dev: RunningService
let prod: RunningService

beforeAll(async () => {
  dev = await startService(postgres.app, { monitor: false })
  prod = await startService(postgres.app, {
    monitor: false,
    production: true,
    introspection: false,
    graphiql: false,
  })
})
afterAll(async () => {
  await dev?.close()
  await prod?.close()
})

async function post(service: RunningService, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.text()
  return {
    status: response.status,
    text,
    json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : undefined,
  }
}

describe('GraphQL abuse limits, enforced before any database work', () => {
  it(`refuses 1,000 aliases of health without a single probe`, async () => {
    let probes = 0
    dev.monitor.on('report', () => probes++)
    const query = `{ ${Array.from({ length: 1000 }, (_, index) => `a${index}: health { status }`).join(' ')} }`

    const result = await post(dev, { query })

    expect(result.json.data).toBeUndefined()
    expect(result.json.errors[0].message).toMatch(/token limit|aliases/i)
    expect(probes).toBe(0)
  })

  it(`refuses more than ${GRAPHQL_LIMITS.maxAliases} aliases`, async () => {
    const query = `{ ${Array.from({ length: GRAPHQL_LIMITS.maxAliases + 1 }, (_, index) => `a${index}: numberOfTables`).join(' ')} }`

    const result = await post(dev, { query })

    expect(result.json.errors[0].message).toBe('Aliases limit of 15 exceeded, found 16.')
    expect(result.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED')
  })

  it(`refuses more than ${GRAPHQL_LIMITS.maxTokens} tokens`, async () => {
    const query = `{ ${'__typename '.repeat(GRAPHQL_LIMITS.maxTokens + 10)} }`

    const result = await post(dev, { query })

    expect(result.json.errors[0].message).toMatch(/Token limit of 1000 exceeded/)
  })

  it(`refuses depth over ${GRAPHQL_LIMITS.maxDepth}`, async () => {
    const query = `{ ${'a { '.repeat(12)}b${' }'.repeat(12)} }`

    const result = await post(dev, { query })

    expect(result.json.errors.map((error: { message: string }) => error.message).join('\n')).toMatch(
      /depth limit of 10 exceeded/,
    )
  })

  it(`refuses more than ${GRAPHQL_LIMITS.maxDirectives} directives`, async () => {
    const query = `{ health ${'@include(if: true) '.repeat(GRAPHQL_LIMITS.maxDirectives + 1)} { status } }`

    const result = await post(dev, { query })

    expect(result.json.errors.map((error: { message: string }) => error.message).join('\n')).toMatch(
      /Directives limit of 50 exceeded/,
    )
  })

  it(`refuses a query costing more than ${GRAPHQL_LIMITS.maxCost}`, async () => {
    const fields = 'schema name kind rowEstimate sizeBytes'
    const page = `tables(first: 500) { totalCount pageInfo { hasNextPage endCursor } nodes { ${fields} } }`
    const query = `{ ${Array.from({ length: 15 }, (_, index) => `d${index}: database { name connections { active idle max } ${page} }`).join(' ')} }`

    const asJson = await post(dev, { query }, { accept: 'application/json' })
    const asGraphqlResponse = await post(dev, { query }, { accept: 'application/graphql-response+json' })

    // GraphQL over HTTP: a validation error is 200 for application/json clients, 400 for the newer type.
    expect(asJson.status).toBe(200)
    expect(asGraphqlResponse.status).toBe(400)
    for (const result of [asJson, asGraphqlResponse]) {
      expect(result.json.data).toBeUndefined()
      expect(result.json.errors).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(/^Query Cost limit of 5000 exceeded, found [\d.]+\.$/),
          extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }),
        }),
      ])
    }
  })

  it('refuses a body over the limit with 413, and one without a length with 411', async () => {
    const huge = await post(dev, { query: `{ health { status } }${' '.repeat(200_000)}` })
    const chunked = await new Promise<number | undefined>((resolve) => {
      const req = request(
        `${dev.url}/graphql`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume()
          resolve(res.statusCode)
        },
      )
      req.write('{"query":"{ health { status } }"}') // no content-length: sent chunked
      req.end()
    })

    expect(huge.status).toBe(413)
    expect(huge.json).toEqual({ error: 'Request body larger than 100000 bytes', code: 'PAYLOAD_TOO_LARGE' })
    expect(chunked).toBe(411)
  })

  it('refuses batched operations', async () => {
    const result = await post(dev, [{ query: '{ health { status } }' }, { query: '{ health { status } }' }])

    expect(result.status).toBeGreaterThanOrEqual(400)
    expect(result.text).not.toContain('Healthy')
  })

  it('refuses input PostgreSQL would choke on (a NUL byte) before any query, with no internal text', async () => {
    const result = await post(dev, { query: '{ numberOfTables(schema: "a\\u0000b") }' })

    expect(result.status).toBe(400)
    expect(result.json.errors[0]).toMatchObject({
      message: 'schema must not contain NUL characters',
      extensions: { code: 'BAD_USER_INPUT' },
    })
    expect(result.text).not.toMatch(/byte sequence|0x00|SQL|stack|at .*\.js|127\.0\.0\.1/)
  })
})

describe('production switches', () => {
  it('suggests field names in development only', async () => {
    const devResult = await post(dev, { query: '{ helth { status } }' })
    const prodResult = await post(prod, { query: '{ helth { status } }' })

    expect(devResult.json.errors[0].message).toContain('Did you mean "health"?')
    expect(prodResult.json.errors[0].message).not.toContain('Did you mean')
    expect(prodResult.json.errors[0].message).not.toContain('health')
  })

  it('refuses introspection when GRAPHQL_INTROSPECTION=false', async () => {
    const devResult = await post(dev, { query: '{ __schema { queryType { name } } }' })
    const prodResult = await post(prod, { query: '{ __schema { queryType { name } } }' })

    expect(devResult.json.data.__schema.queryType.name).toBe('Query')
    expect(prodResult.json.data).toBeUndefined()
    expect(prodResult.json.errors[0].message).toMatch(/introspection/i)
  })

  it('serves no GraphiQL when GRAPHIQL=false, but still answers queries', async () => {
    const page = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } })
    const query = await post(prod, { query: '{ health { status } }' })

    expect(page.headers.get('content-type') ?? '').not.toContain('text/html')
    expect(await page.text()).not.toContain('<html')
    expect(query.json).toEqual({ data: { health: { status: 'Healthy!' } } })
  })

  it('tells a browser at /graphql that the playground is off and which setting turns it on', async () => {
    const page = await fetch(`${prod.url}/graphql`, {
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    })
    const withQuery = await fetch(
      `${prod.url}/graphql?query=${encodeURIComponent('{ health { status } }')}`,
      {
        headers: { accept: 'text/html, application/json' },
      },
    )

    expect(page.status).toBe(404)
    expect(await page.json()).toEqual({
      code: 'GRAPHIQL_OFF',
      error:
        'GraphiQL, the GraphQL playground, is off on this server (GRAPHIQL=false); set GRAPHIQL=true to turn it on. Queries still work: POST /graphql.',
    })
    // A GET that carries its query is still a GraphQL request, from a browser too.
    expect(await withQuery.json()).toEqual({ data: { health: { status: 'Healthy!' } } })
  })

  it('serves no landing page on unknown routes', async () => {
    const response = await fetch(`${prod.url}/`, { headers: { accept: 'text/html' } })

    expect(response.status).toBe(404)
    expect(await response.text()).toBe('{"code":"NOT_FOUND","error":"Not Found"}\n')
  })
})
