import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTAINER_NAME, type RunningService, startService } from '../support/service.js'

// A database that accepts TCP connections and never says a word: a firewall that drops packets, or a
// hung server. The driver would wait forever without its timeouts.
let blackHole: Server
let port: number
const sockets: Socket[] = []
let service: RunningService
const HEALTH_TIMEOUT_MS = 700

beforeAll(async () => {
  blackHole = createServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve))
  port = (blackHole.address() as { port: number }).port
  service = await startService(
    { host: '127.0.0.1', port, user: 'ctera', database: 'postgres', password: 'never-sent-anywhere' },
    { healthTimeoutMs: HEALTH_TIMEOUT_MS, connectTimeoutMs: HEALTH_TIMEOUT_MS },
  )
})
afterAll(async () => {
  await service.close()
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => blackHole.close(resolve))
})

describe('a black-holed database', () => {
  it('turns /health into 503 within the health timeout', async () => {
    const started = performance.now()

    const response = await fetch(`${service.url}/health`)
    const elapsed = performance.now() - started

    expect(response.status).toBe(503)
    expect(await response.json()).toEqual({ container: CONTAINER_NAME, status: 'Unhealthy' })
    expect(elapsed).toBeGreaterThanOrEqual(HEALTH_TIMEOUT_MS - 50)
    expect(elapsed).toBeLessThan(HEALTH_TIMEOUT_MS + 1500)
  })

  it('reports the reason as timeout', async () => {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { healthy reason } }' }),
    })

    expect(await response.json()).toEqual({ data: { health: { healthy: false, reason: 'timeout' } } })
  })

  it('shares one probe between concurrent health checks (single-flight)', async () => {
    const connectionsBefore = sockets.length

    const responses = await Promise.all(Array.from({ length: 25 }, () => fetch(`${service.url}/health`)))

    expect(responses.map((response) => response.status)).toEqual(Array(25).fill(503))
    expect(sockets.length - connectionsBefore).toBe(1)
  })

  it('keeps the liveness and readiness probes fast meanwhile (they read state, never the database)', async () => {
    const timings: number[] = []
    const statuses: number[] = []
    for (let round = 0; round < 20; round++) {
      for (const path of ['/livez', '/readyz']) {
        const started = performance.now()
        const response = await fetch(`${service.url}${path}`)
        timings.push(performance.now() - started)
        statuses.push(response.status)
      }
    }
    const slowest = Math.max(...timings)
    console.log(`black hole: 40 probes while the database is black-holed, slowest ${slowest.toFixed(1)} ms`)

    expect(statuses.filter((_, index) => index % 2 === 0)).toEqual(Array(20).fill(200)) // live
    expect(statuses.filter((_, index) => index % 2 === 1)).toEqual(Array(20).fill(503)) // not ready
    expect(slowest).toBeLessThan(HEALTH_TIMEOUT_MS / 2)
  })

  // Last: its connection attempts must not overlap the probe counts above.
  it('says unavailable, not busy, to insight queries that queued behind ones stuck connecting', async () => {
    // The pool (5) lets 4 insight queries connect at once: the other 8 wait for them, in vain.
    const answers = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const response = await fetch(`${service.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ database { name } }' }),
        })
        return ((await response.json()) as { errors: Array<{ extensions: unknown }> }).errors[0]?.extensions
      }),
    )

    expect(answers).toEqual(Array(12).fill({ code: 'DATABASE_UNAVAILABLE', reason: 'timeout' }))
  })
})
