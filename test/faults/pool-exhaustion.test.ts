import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { lockedTable, slowRequest } from '../support/postgres.js'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let service: RunningService
let lock: Awaited<ReturnType<typeof lockedTable>>

beforeAll(async () => {
  lock = await lockedTable(postgres.admin)
  service = await startService(postgres.app, { poolMax: 2, queryTimeoutMs: 20_000 })
})
afterAll(async () => {
  await lock?.release()
  await service?.close()
})

describe('a query pool exhausted by slow queries', () => {
  it('still answers /health within the timeout, on the health check\u2019s own connection', async () => {
    const stuck = Array.from({ length: 4 }, () => slowRequest(service.url, lock.schema))
    let queries = service.db.poolStats().queries
    while (queries.waiting < 2) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      queries = service.db.poolStats().queries
    }

    const started = performance.now()
    const health = await fetch(`${service.url}/health`)
    const elapsed = performance.now() - started
    await lock.release()
    const released = await Promise.all(stuck)

    expect(queries).toMatchObject({ total: 2, idle: 0, waiting: 2 })
    expect(health.status).toBe(200)
    expect(elapsed).toBeLessThan(2000)
    expect(released.map((response) => response.status)).toEqual([200, 200, 200, 200])
  })
})
