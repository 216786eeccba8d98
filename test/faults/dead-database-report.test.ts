import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLE_QUERY } from '../../src/graphql/yoga.js'
import type { TestPostgres } from '../support/postgres.js'
import { CONTAINER_NAME, type RunningService, startServiceOnOwnPostgres } from '../support/service.js'

let postgres: TestPostgres
let service: RunningService
let close: () => Promise<void>

beforeAll(async () => {
  ;({ postgres, service, close } = await startServiceOnOwnPostgres())
  await postgres.server.stop()
})
afterAll(() => close?.())

// The last check may have run while the server was shutting down.
const UNREACHABLE = ['connection refused', 'connection lost', 'database not accepting connections']

describe('a dead database is a report, for the default query too', () => {
  it('keeps the health report in the README\u2019s first example (GraphiQL\u2019s default) and nulls the counts', async () => {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: EXAMPLE_QUERY }),
    })
    const body = await response.json()

    expect(response.status).toBe(200)
    expect(body.data.health).toMatchObject({ healthy: false, status: 'Unhealthy', container: CONTAINER_NAME })
    expect(UNREACHABLE).toContain(body.data.health.reason)
    expect(body.data.numberOfTables).toBeNull()
    expect(body.data.userTables).toBeNull()
    expect(body.errors.map((error: { path: string[] }) => error.path[0]).sort()).toEqual([
      'numberOfTables',
      'userTables',
    ])
    for (const error of body.errors) {
      expect(error.message).toBe('The database is unavailable.')
      expect(error.extensions.code).toBe('DATABASE_UNAVAILABLE')
    }
  })

  it('keeps the rest of the answer when database insight fails', async () => {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { healthy } database { name tables { totalCount } } }' }),
    })
    const body = await response.json()

    expect(body.data).toEqual({ health: { healthy: false }, database: null })
    expect(body.errors[0].extensions.code).toBe('DATABASE_UNAVAILABLE')
  })

  it('keeps the REST answers exact: the seed bodies and 503', async () => {
    const health = await fetch(`${service.url}/health`)
    const tables = await fetch(`${service.url}/number_of_tables`)

    expect(health.status).toBe(503)
    expect(await health.text()).toBe(`{"container":"${CONTAINER_NAME}","status":"Unhealthy"}\n`)
    expect(tables.status).toBe(503)
    const body = await tables.json()
    expect(body).toMatchObject({ error: 'The database is unavailable.', code: 'DATABASE_UNAVAILABLE' })
    expect(UNREACHABLE).toContain(body.reason)
  })
})
