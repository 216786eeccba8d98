import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { withClient } from '../support/postgres.js'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
const SCHEMA = `locked_${process.pid}`
let service: RunningService
let locker: pg.Client

beforeAll(async () => {
  await withClient(postgres.admin, async (client) => {
    await client.query(`CREATE SCHEMA ${SCHEMA}`)
    await client.query(`CREATE TABLE ${SCHEMA}.busy (id int)`)
    await client.query(`GRANT USAGE ON SCHEMA ${SCHEMA} TO ctera; GRANT SELECT ON ${SCHEMA}.busy TO ctera`)
  })
  service = await startService(postgres.app, { poolMax: 2, queryTimeoutMs: 20_000 })
  // An open transaction holding an exclusive lock: reading the table's size waits behind it.
  locker = new pg.Client({ ...postgres.admin })
  await locker.connect()
  await locker.query(`BEGIN; LOCK TABLE ${SCHEMA}.busy IN ACCESS EXCLUSIVE MODE`)
})
afterAll(async () => {
  await locker?.end()
  await service?.close()
})

describe('a query pool exhausted by slow queries', () => {
  it('still answers /health within the timeout, on the health check\u2019s own connection', async () => {
    const query = `{ database { tables(schema: "${SCHEMA}") { nodes { sizeBytes } } } }`
    const stuck = Array.from({ length: 4 }, () =>
      fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      }),
    )
    let queries = service.db.poolStats().queries
    while (queries.waiting < 2) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      queries = service.db.poolStats().queries
    }

    const started = performance.now()
    const health = await fetch(`${service.url}/health`)
    const elapsed = performance.now() - started
    await locker.query('ROLLBACK')
    const released = await Promise.all(stuck)

    expect(queries).toMatchObject({ total: 2, idle: 0, waiting: 2 })
    expect(health.status).toBe(200)
    expect(elapsed).toBeLessThan(2000)
    expect(released.map((response) => response.status)).toEqual([200, 200, 200, 200])
  })
})
