import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { lockedTable, slowRequest, withClient } from '../support/postgres.js'
import { type ServiceProcess, startServiceProcess } from '../support/process.js'

const postgres = inject('postgres')
let service: ServiceProcess
let port: number
let stop: () => Promise<void>

beforeAll(async () => {
  ;({ service, port, stop } = await startServiceProcess(postgres.app, { DB_QUERY_TIMEOUT_MS: '20000' }))
}, 60_000)
afterAll(() => stop?.())

describe('a connection killed in the middle of a query', () => {
  it('fails that request with 503 "connection lost" and the process lives on', async () => {
    const lock = await lockedTable(postgres.admin)
    try {
      const inFlight = Array.from({ length: 3 }, () => slowRequest(`http://127.0.0.1:${port}`, lock.schema))
      // The service's sessions waiting on the lock, terminated as an operator (or a failover) would.
      let killed = 0
      for (let tries = 0; tries < 100 && killed < 3; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        killed = await withClient(postgres.admin, async (client) => {
          const { rows } = await client.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE usename = 'ctera' AND wait_event_type = 'Lock' AND query LIKE '%visible%'`,
          )
          return killed + rows.length
        })
      }
      const answers = await Promise.all(inFlight)
      const bodies = await Promise.all(answers.map((answer) => answer.json()))
      // Healthy again once the service has replaced what it lost, however long a busy machine takes.
      const health = await vi.waitUntil(
        async () => {
          const answer = await fetch(`http://127.0.0.1:${port}/health`)
          return answer.status === 200 ? answer : undefined
        },
        { timeout: 30_000, interval: 100 },
      )

      expect(killed).toBeGreaterThanOrEqual(1)
      expect(service.child.exitCode).toBeNull()
      expect(service.child.signalCode).toBeNull()
      expect(health.status).toBe(200)
      for (const body of bodies.slice(0, killed)) {
        expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'DATABASE_UNAVAILABLE' })
      }
    } finally {
      await lock.release()
    }
  }, 60_000)
})
