import { describe, expect, it } from 'vitest'
import { GRAPHQL_LIMITS } from '../../src/graphql/limits.js'
import { appOverMemory } from '../support/app-over-memory.js'
import { CONTAINER_NAME } from '../support/service.js'

describe('GraphQL over the in-memory database', () => {
  it('answers health and numberOfTables from the database', async () => {
    const app = appOverMemory()

    const { status, body } = await app.graphql(
      '{ health { healthy status container reason } numberOfTables user: numberOfTables(includeSystem: false) }',
    )

    expect(status).toBe(200)
    expect(body).toEqual({
      data: {
        health: { healthy: true, status: 'Healthy!', container: CONTAINER_NAME, reason: null },
        numberOfTables: 3,
        user: 0,
      },
    })
  })

  it('reports a dead database in health, and as DATABASE_UNAVAILABLE (with its reason) where data was asked', async () => {
    const app = appOverMemory()
    app.db.setUnreachable('connection refused')

    const { status, body } = await app.graphql('{ health { healthy reason } numberOfTables }')

    expect(status).toBe(200)
    expect(body.data).toEqual({
      health: { healthy: false, reason: 'connection refused' },
      numberOfTables: null,
    })
    expect(body.errors).toEqual([
      {
        message: 'The database is unavailable.',
        path: ['numberOfTables'],
        locations: expect.any(Array),
        extensions: { code: 'DATABASE_UNAVAILABLE', reason: 'connection refused' },
      },
    ])
  })

  it('masks an unexpected failure: a fixed message for the client, the real one in the log', async () => {
    const app = appOverMemory()
    app.db.setBroken(new Error('permission denied for table secret_table'))

    const { body } = await app.graphql('{ numberOfTables }')

    expect(body.errors?.[0]?.message).toBe('Unexpected error.')
    expect(JSON.stringify(body)).not.toContain('secret_table')
    expect(app.logs.some((line) => line.level === 50 && JSON.stringify(line).includes('secret_table'))).toBe(
      true,
    )
  })

  it('refuses impossible arguments with 400 BAD_USER_INPUT, before any query', async () => {
    const app = appOverMemory()
    app.db.setBroken(new Error('must not be reached'))

    const long = await app.graphql(`{ numberOfTables(schema: "${'x'.repeat(64)}") }`)
    const nul = await app.graphql('{ numberOfTables(schema: "a\\u0000b") }')
    app.db.setBroken(undefined)
    const cursor = await app.graphql('{ database { tables(after: "not-a-cursor") { totalCount } } }')

    expect([long.status, nul.status]).toEqual([400, 400])
    expect(long.body.errors?.[0]).toMatchObject({
      message: 'schema must be at most 63 characters',
      extensions: { code: 'BAD_USER_INPUT' },
    })
    expect(nul.body.errors?.[0]).toMatchObject({
      message: 'schema must not contain NUL characters',
      extensions: { code: 'BAD_USER_INPUT' },
    })
    expect(cursor.body.errors?.[0]).toMatchObject({
      message: 'after is not a cursor returned by this API',
      extensions: { code: 'BAD_USER_INPUT' },
    })
  })

  it('pages through tables with the cursor it hands out', async () => {
    const app = appOverMemory()
    app.db.addTables(...['a', 'b', 'c'].map((name) => ({ schema: 'public', name })))
    const page = `query Page($after: String) {
      database { tables(schema: "public", first: 2, after: $after) {
        nodes { name } pageInfo { hasNextPage endCursor } totalCount } } }`

    const first = await app.graphql(page)
    type Tables = { tables: { nodes: unknown; pageInfo: { endCursor: string } } }
    const tables = (body: typeof first.body) => (body.data?.database as Tables | undefined)?.tables
    const second = await app.graphql(page, { after: tables(first.body)?.pageInfo.endCursor })

    expect(tables(first.body)).toMatchObject({
      nodes: [{ name: 'a' }, { name: 'b' }],
      pageInfo: { hasNextPage: true },
      totalCount: 3,
    })
    expect(tables(second.body)).toMatchObject({ nodes: [{ name: 'c' }], pageInfo: { hasNextPage: false } })
  })

  it(`refuses more than ${GRAPHQL_LIMITS.maxAliases} aliases or ${GRAPHQL_LIMITS.maxTokens} tokens without a probe`, async () => {
    const app = appOverMemory()
    const aliases = Array.from(
      { length: GRAPHQL_LIMITS.maxAliases + 1 },
      (_, i) => `a${i}: health { healthy }`,
    )

    const wide = await app.graphql(`{ ${aliases.join(' ')} }`)
    const long = await app.graphql(`{ ${'__typename '.repeat(GRAPHQL_LIMITS.maxTokens)} }`)

    expect(wide.status).toBe(400)
    expect(wide.body.errors?.[0]?.message).toMatch(/aliases/i)
    expect(long.status).toBe(400)
    expect(long.body.errors?.[0]?.message).toMatch(/token/i)
    expect(app.db.healthChecks).toBe(0)
  })

  it('refuses a batch, and a body over the limit with 413', async () => {
    const app = appOverMemory({ GRAPHQL_MAX_BODY_BYTES: '1024' })
    const post = (payload: string, headers: Record<string, string> = {}) =>
      app.request({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      })

    const batch = await post(
      JSON.stringify([{ query: '{ numberOfTables }' }, { query: '{ numberOfTables }' }]),
    )
    const large = await post(JSON.stringify({ query: `{ numberOfTables } # ${'x'.repeat(2000)}` }))

    expect(batch.statusCode).toBe(400)
    expect(large.statusCode).toBe(413)
    expect(large.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
  })

  it('answers HEAD /graphql as the GET it stands for, with no body', async () => {
    const app = appOverMemory()

    const response = await app.request({ method: 'HEAD', url: '/graphql?query=%7B__typename%7D' })

    expect(response.statusCode).toBe(200)
    expect(response.payload).toBe('')
  })
})
