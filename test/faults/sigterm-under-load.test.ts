import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { lockedTable, slowRequest } from '../support/postgres.js'
import { databaseEnv, spawnService } from '../support/process.js'

const postgres = inject('postgres')
let prepared: Awaited<ReturnType<typeof databaseEnv>>

beforeAll(async () => {
  prepared = await databaseEnv(postgres.app, {
    DB_QUERY_TIMEOUT_MS: '20000',
    HEALTH_INTERVAL_MS: '200',
    // Long enough for a probe or two to see the 503 during the drain on a busy machine.
    SHUTDOWN_DRAIN_MS: '1500',
  })
})
afterAll(() => prepared?.cleanup())

interface Outcome {
  status?: number
  error?: string
  at: number
}

/** One request on a connection of its own, so a refused connection means "never accepted". */
function hit(port: number, path: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode, at: Date.now() }))
      res.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ error: error.code ?? error.message, at: Date.now() }),
      )
    })
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message, at: Date.now() }),
    )
    req.end()
  })
}

describe('graceful shutdown under load', () => {
  it('turns not ready at once, keeps serving through the drain, finishes in-flight work, ends streams, exits 0', async () => {
    const service = spawnService(prepared.env)
    const { port } = (await service.waitForLog('listening')) as { port: number }
    const lock = await lockedTable(postgres.admin)
    const inFlight = slowRequest(`http://127.0.0.1:${port}`, lock.schema)
    const stream = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { healthChanged { healthy } }' }),
    })
    const streamText = stream.text()

    // Steady load from 8 clients behind a load balancer that probes /readyz every 25 ms and sends no new
    // request once it has seen 503 (bounded: 300 requests each). Requests already sent must all succeed.
    let signalledAt = Number.POSITIVE_INFINITY
    let balancerSawNotReady = false
    const outcomes: Outcome[] = []
    const readiness: Outcome[] = []
    const clients = Array.from({ length: 8 }, async (_, index) => {
      for (let sent = 0; sent < 300 && !balancerSawNotReady; sent++) {
        outcomes.push(await hit(port, index % 2 ? '/health' : '/number_of_tables'))
      }
    })
    const prober = (async () => {
      for (let sent = 0; sent < 300; sent++) {
        const [ready, live] = await Promise.all([hit(port, '/readyz'), hit(port, '/livez')])
        readiness.push({ ...ready, error: ready.error ?? live.error, status: ready.status, at: ready.at })
        if (ready.status === 503) balancerSawNotReady = true
        // Once the server stops accepting, either of the two concurrent probes may be the first refused.
        if (ready.error || live.error) return
        if (ready.at > signalledAt) expect(live.status).toBe(200)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    })()

    // The signal comes once load is flowing: answers from every client and a probe, however long a busy
    // machine takes to give them (a fixed 400 ms was sometimes not enough for one answer).
    await vi.waitUntil(() => outcomes.length >= 8 && readiness.length > 0, { timeout: 60_000, interval: 20 })
    signalledAt = Date.now()
    service.child.kill('SIGTERM')
    setTimeout(() => void lock.release(), 300)
    const [slow] = await Promise.all([inFlight, ...clients, prober])
    const code = await service.exited

    const beforeSignal = outcomes.filter((outcome) => outcome.at < signalledAt)
    const duringDrain = outcomes.filter((outcome) => outcome.at >= signalledAt && outcome.status)
    const failures = outcomes.filter((outcome) => outcome.error)
    const readyAfterSignal = readiness.filter((outcome) => outcome.at > signalledAt + 50 && outcome.status)
    console.log(
      `shutdown under load: ${outcomes.length} requests, ${beforeSignal.length} before SIGTERM, ` +
        `${duringDrain.length} answered after it, ${failures.length} lost`,
    )

    expect(code).toBe(0)
    expect(failures).toEqual([])
    expect(outcomes.filter((outcome) => outcome.status && outcome.status !== 200)).toEqual([])
    expect(beforeSignal.length).toBeGreaterThan(0)
    expect(duringDrain.length).toBeGreaterThan(0)
    expect(readyAfterSignal.length).toBeGreaterThan(0)
    expect(readyAfterSignal.every((outcome) => outcome.status === 503)).toBe(true)
    expect(slow.status).toBe(200)
    expect(await streamText).toContain('event: complete')
    expect(service.stdout.join('\n')).toContain('"msg":"stopped"')
  }, 180_000)
})
