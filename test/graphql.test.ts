import { ClientError, GraphQLClient } from 'graphql-request'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  DefaultNumberOfTablesDocument,
  HealthDocument,
  NumberOfTablesDocument,
} from './generated/operations.js'
import { withClient } from './support/postgres.js'
import { present } from './support/present.js'
import { CONTAINER_NAME, type RunningService, startService } from './support/service.js'

const postgres = inject('postgres')
let service: RunningService
let client: GraphQLClient

beforeAll(async () => {
  service = await startService(postgres.app)
  client = new GraphQLClient(`${service.url}/graphql`)
})
afterAll(() => service.close())

async function seedCount(where = ''): Promise<number> {
  return withClient(postgres.app, async (pg) => {
    const result = await pg.query(`SELECT count(*)::int AS n FROM information_schema.tables ${where}`)
    return result.rows[0].n as number
  })
}

describe('health', () => {
  it('reports a healthy database with the seed words, latency and time', async () => {
    const before = Date.now()

    const { health } = await client.request(HealthDocument)

    expect(health).toMatchObject({
      healthy: true,
      status: 'Healthy!',
      container: CONTAINER_NAME,
      reason: null,
    })
    expect(health.latencyMs).toBeGreaterThan(0)
    expect(health.latencyMs).toBeLessThan(2000)
    expect(health.checkedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(Date.parse(health.checkedAt)).toBeGreaterThanOrEqual(before - 5)
  })

  it('is a live check: each request checks again', async () => {
    const first = await client.request(HealthDocument)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const second = await client.request(HealthDocument)

    expect(second.health.checkedAt).not.toBe(first.health.checkedAt)
  })
})

describe('numberOfTables', () => {
  const schemaName = `t_${process.pid}`

  beforeAll(async () => {
    await withClient(postgres.admin, (pg) => pg.query(`CREATE SCHEMA ${schemaName} AUTHORIZATION ctera`))
  })

  it('with no arguments is the seed number: count(*) of information_schema.tables', async () => {
    const expected = await seedCount()

    const { numberOfTables } = await client.request(DefaultNumberOfTablesDocument)

    expect(numberOfTables).toBe(expected)
  })

  it('grows by one after CREATE TABLE', async () => {
    const { numberOfTables: before } = await client.request(DefaultNumberOfTablesDocument)
    await withClient(postgres.app, (pg) => pg.query(`CREATE TABLE ${schemaName}.grows (id int)`))

    const { numberOfTables: after } = await client.request(DefaultNumberOfTablesDocument)

    expect(after).toBe(present(before) + 1)
  })

  it('counts one schema with the schema argument', async () => {
    await withClient(postgres.app, async (pg) => {
      await pg.query(`CREATE TABLE ${schemaName}.a (id int)`)
      await pg.query(`CREATE TABLE ${schemaName}.b (id int)`)
    })
    const expected = await seedCount(`WHERE table_schema = '${schemaName}'`)

    const result = await client.request(NumberOfTablesDocument, { schema: schemaName })

    expect(result.numberOfTables).toBe(expected)
    expect(expected).toBeGreaterThanOrEqual(2)
  })

  it('leaves out pg_catalog and information_schema with includeSystem: false', async () => {
    const expected = await seedCount("WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
    const all = await seedCount()

    const result = await client.request(NumberOfTablesDocument, { includeSystem: false })

    expect(result.numberOfTables).toBe(expected)
    expect(result.numberOfTables).toBeLessThan(all)
  })

  it('treats an explicit null includeSystem as the default', async () => {
    const result = await client.request(NumberOfTablesDocument, { includeSystem: null })

    expect(result.numberOfTables).toBe(await seedCount())
  })

  it('counts 0 for a schema that does not exist, and 0 system tables in a user schema', async () => {
    const missing = await client.request(NumberOfTablesDocument, { schema: 'no_such_schema' })
    const catalogOnly = await client.request(NumberOfTablesDocument, {
      schema: 'pg_catalog',
      includeSystem: false,
    })

    expect(missing.numberOfTables).toBe(0)
    expect(catalogOnly.numberOfTables).toBe(0)
  })

  it('treats the schema argument as data, never as SQL', async () => {
    const result = await client.request(NumberOfTablesDocument, { schema: "public' OR '1'='1" })

    expect(result.numberOfTables).toBe(0)
  })

  it('refuses a schema name longer than PostgreSQL allows with BAD_USER_INPUT', async () => {
    const error = await client
      .request(NumberOfTablesDocument, { schema: 'x'.repeat(64) })
      .catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(ClientError)
    const [first] = (error as ClientError).response.errors ?? []
    expect(first?.extensions?.code).toBe('BAD_USER_INPUT')
    expect(first?.message).toBe('schema must be at most 63 characters')
  })
})

describe('the GraphQL endpoint', () => {
  it('serves GraphiQL to browsers with a prefilled example query, from this server not a CDN', async () => {
    const response = await fetch(`${service.url}/graphql`, { headers: { accept: 'text/html' } })
    const html = await response.text()

    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/html')
    expect(html).toContain('ctera-app GraphQL')
    expect(html).toContain('query Overview')
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/)
  })

  it('answers HEAD like GET, without a body', async () => {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'HEAD',
      headers: { accept: 'text/html' },
    })

    expect(response.status).toBe(200)
    expect(await response.text()).toBe('')
  })

  it('answers GET queries too', async () => {
    const response = await fetch(
      `${service.url}/graphql?query=${encodeURIComponent('{ health { status } }')}`,
    )

    expect(await response.json()).toEqual({ data: { health: { status: 'Healthy!' } } })
  })

  it('reports an invalid query as a GraphQL validation error, not a crash', async () => {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ nope }' }),
    })
    const body = await response.json()

    expect(response.status).toBe(400)
    expect(body.errors[0].message).toContain('Cannot query field "nope"')
  })
})
