import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { lockedTable, slowRequest, startTestPostgres, type TestPostgres } from '../support/postgres.js'
import { type RunningService, startService } from '../support/service.js'

// A PostgreSQL of its own: connection-killed.test.ts ends the shared one's sessions that wait on a lock.
let postgres: TestPostgres
let service: RunningService
let lock: Awaited<ReturnType<typeof lockedTable>>
const WAIT_MS = 1000

beforeAll(async () => {
  postgres = await startTestPostgres()
  lock = await lockedTable(postgres.admin)
  // Two connections: one for GraphQL's insight queries, one kept for the seed's count.
  service = await startService(postgres.app, {
    poolMax: 2,
    queryTimeoutMs: 20_000,
    connectTimeoutMs: WAIT_MS,
  })
})
afterAll(async () => {
  await lock?.release()
  await service?.close()
  await postgres?.destroy()
}, 120_000)

async function errorsOf(response: Response) {
  const body = (await response.json()) as { errors?: Array<{ extensions?: Record<string, unknown> }> }
  return (body.errors ?? []).map((error) => error.extensions)
}

describe('a query pool whose GraphQL share is held by slow queries', () => {
  it('still answers /health on its own connection and /number_of_tables on the one kept for it', async () => {
    const stuck = slowRequest(service.url, lock.schema)
    const waiting = [slowRequest(service.url, lock.schema), slowRequest(service.url, lock.schema)]
    let queries = service.db.poolStats().queries
    while (queries.waiting < 2) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      queries = service.db.poolStats().queries
    }

    const [health, count] = await Promise.all([
      fetch(`${service.url}/health`),
      fetch(`${service.url}/number_of_tables`),
    ])
    const waited = await Promise.all(waiting)
    await lock.release()
    const released = await stuck

    expect(queries).toMatchObject({ total: 1, idle: 0, waiting: 2, max: 2 })
    expect(health.status).toBe(200)
    expect(count.status).toBe(200)
    expect(await count.json()).toEqual({ number_of_tables: expect.stringMatching(/^\d+$/) })
    // The two that waited for the share in vain are told the database is busy, not unavailable.
    expect(await Promise.all(waited.map(errorsOf))).toEqual([
      [{ code: 'DATABASE_BUSY', reason: 'connection wait timeout' }],
      [{ code: 'DATABASE_BUSY', reason: 'connection wait timeout' }],
    ])
    expect(await errorsOf(released)).toEqual([])
  })
})

describe('a query the server cancels at its statement timeout', () => {
  it('is DATABASE_BUSY "statement timeout" while /health stays 200', async () => {
    const shortLock = await lockedTable(postgres.admin)
    const quick = await startService(postgres.app, { queryTimeoutMs: 300, monitor: false })
    try {
      const graphql = await slowRequest(quick.url, shortLock.schema)
      const health = await fetch(`${quick.url}/health`)

      expect(await errorsOf(graphql)).toEqual([{ code: 'DATABASE_BUSY', reason: 'statement timeout' }])
      expect(health.status).toBe(200)
    } finally {
      await shortLock.release()
      await quick.close()
    }
  })
})
