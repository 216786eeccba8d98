import { ClientError, GraphQLClient } from 'graphql-request'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DefaultNumberOfTablesDocument, HealthDocument } from './generated/operations.js'
import type { TestPostgres } from './support/postgres.js'
import { CONTAINER_NAME, type RunningService, startServiceOnOwnPostgres } from './support/service.js'

// This file stops and starts its own real PostgreSQL, so the shared one stays up for other files.
let postgres: TestPostgres
let service: RunningService
let close: () => Promise<void>
let client: GraphQLClient

beforeAll(async () => {
  ;({ postgres, service, close } = await startServiceOnOwnPostgres({ healthIntervalMs: 200 }))
  client = new GraphQLClient(`${service.url}/graphql`)
})
afterAll(() => close?.())

const UNREACHABLE = ['connection refused', 'connection lost']

describe('when the database stops and starts again', () => {
  it('is healthy first, with idle connections in the pool', async () => {
    await Promise.all([1, 2, 3].map(() => fetch(`${service.url}/number_of_tables`)))

    const response = await fetch(`${service.url}/health`)

    expect(response.status).toBe(200)
  })

  it('answers /health with 503 and the seed body once the database is stopped', async () => {
    await postgres.server.stop()

    const response = await fetch(`${service.url}/health`)

    expect(response.status).toBe(503)
    expect(await response.text()).toBe(`{"container":"${CONTAINER_NAME}","status":"Unhealthy"}\n`)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('turns not ready once the monitor has confirmed the outage (HEALTH_FAILURES_BEFORE_UNREADY checks)', async () => {
    // The monitor's confirmed state, not /readyz alone: on a loaded machine the stale cap (3 intervals of
    // 200 ms here) can turn readiness before the third failed check is in.
    const deadline = Date.now() + 10_000
    while (service.monitor.state.healthy !== false && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const ready = await fetch(`${service.url}/readyz`)

    expect(service.monitor.state.healthy).toBe(false)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({ status: 'not ready', reason: 'database unreachable' })
  })

  it('reports healthy: false with a fixed reason in GraphQL, not an error', async () => {
    const { health } = await client.request(HealthDocument)

    expect(health.healthy).toBe(false)
    expect(health.status).toBe('Unhealthy')
    expect(UNREACHABLE).toContain(health.reason)
  })

  it('fails numberOfTables with DATABASE_UNAVAILABLE and a message that says nothing internal', async () => {
    const error = await client.request(DefaultNumberOfTablesDocument).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(ClientError)
    const [first] = (error as ClientError).response.errors ?? []
    expect(first?.message).toBe('The database is unavailable.')
    expect(first?.extensions?.code).toBe('DATABASE_UNAVAILABLE')
    expect(UNREACHABLE).toContain(first?.extensions?.reason)
    expect(JSON.stringify((error as ClientError).response)).not.toMatch(
      /127\.0\.0\.1|ECONNREFUSED|stack|ctera@/,
    )
  })

  it('answers /number_of_tables with a JSON 503 (the seed answered an HTML 500)', async () => {
    const response = await fetch(`${service.url}/number_of_tables`)
    const body = await response.json()

    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('5')
    expect(body.code).toBe('DATABASE_UNAVAILABLE')
    expect(body.error).toBe('The database is unavailable.')
  })

  it('recovers by itself, in the same process, once the database is back', async () => {
    await postgres.server.start()
    const back = Date.now()

    let status = 0
    while (Date.now() - back < 10_000) {
      status = (await fetch(`${service.url}/health`)).status
      if (status === 200) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }

    expect(status).toBe(200)
    // The deadline is the feature (the next check after the return, backoff capped), with room for a busy
    // machine: quiet, it measures a few hundred ms.
    expect(Date.now() - back).toBeLessThan(5000)
    expect((await fetch(`${service.url}/number_of_tables`)).status).toBe(200)
  })

  it('logged the outage and the recovery with fixed reasons, and survived idle-connection errors', () => {
    const messages = service.logs.map((line) => line.msg)

    // Once per transition, however many checks failed in between.
    expect(messages.filter((message) => message === 'database is unreachable')).toHaveLength(1)
    expect(messages).toContain('database is reachable')
    expect(messages).toContain('idle database connection lost')
    expect(service.rawLogs.join('\n')).not.toContain(postgres.app.password)
  })
})
