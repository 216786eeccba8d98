import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestPostgres } from '../support/postgres.js'
import { type RunningService, startServiceOnOwnPostgres } from '../support/service.js'

let postgres: TestPostgres
let service: RunningService
let close: () => Promise<void>

beforeAll(async () => {
  ;({ postgres, service, close } = await startServiceOnOwnPostgres({
    healthIntervalMs: 200,
    healthStaleIntervals: 3,
  }))
})
afterAll(() => close?.())

async function get(path: string) {
  const started = performance.now()
  const response = await fetch(`${service.url}${path}`)
  return {
    status: response.status,
    body: await response.json(),
    ms: performance.now() - started,
    headers: response.headers,
  }
}

// Waits for state, for as long as a busy machine needs (bounded).
async function until(predicate: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await predicate()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

describe('liveness and readiness', () => {
  it('is live and, once the monitor has checked, ready', async () => {
    // The answer that said ready is the one checked: on a busy machine a later one may already find the last
    // check stale (three 200 ms intervals here), which is the staleness rule working, not this test's subject.
    let ready: Awaited<ReturnType<typeof get>> | undefined
    expect(
      await until(async () => {
        ready = await get('/readyz')
        return ready.status === 200
      }),
    ).toBe(true)

    const live = await get('/livez')

    expect(live.status).toBe(200)
    expect(live.body.status).toBe('alive')
    expect(live.headers.get('cache-control')).toBe('no-store')
    expect(ready?.body).toEqual({ status: 'ready' })
  })

  it('stays live but turns not ready when the database stops, answering from state without waiting', async () => {
    await postgres.server.stop()

    expect(await until(async () => (await get('/readyz')).status === 503)).toBe(true)
    const ready = await get('/readyz')
    const live = await get('/livez')

    expect(ready.body).toEqual({ status: 'not ready', reason: 'database unreachable' })
    expect(live.status).toBe(200)
    // Answered from the monitor's state: far below the 2 s a database check may take.
    expect(ready.ms).toBeLessThan(500)
  })

  it('turns ready again by itself when the database returns (the monitor retries with backoff)', async () => {
    await postgres.server.start()

    expect(await until(async () => (await get('/readyz')).status === 200, 10_000)).toBe(true)
  })

  it('is not ready once the last success is older than the stale cutoff', () => {
    const monitor = service.monitor
    const lastSuccess = monitor.lastSuccessAt?.getTime() ?? 0

    expect(monitor.readiness(lastSuccess + 200 * 3 - 1)).toEqual({ ready: true })
    expect(monitor.readiness(lastSuccess + 200 * 3 + 1)).toEqual({ ready: false, reason: 'stale' })
  })

  it('turns not ready at once at shutdown while liveness stays 200', async () => {
    service.lifecycle.beginShutdown()

    const ready = await get('/readyz')
    const live = await get('/livez')

    expect(ready).toMatchObject({ status: 503, body: { status: 'not ready', reason: 'shutting down' } })
    expect(live.status).toBe(200)
  })
})
