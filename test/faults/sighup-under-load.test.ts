import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connectFrom, firstStatus, loopbackAddress, tally } from '../support/loopback.js'
import { lockedTable, slowRequest } from '../support/postgres.js'
import { databaseEnv, MAIN, PRODUCTION_NODE_FLAGS, spawnService } from '../support/process.js'

const postgres = inject('postgres')
let prepared: Awaited<ReturnType<typeof databaseEnv>>

beforeAll(async () => {
  // Requests wait for a pool connection (10) and on the lock for up to 20 s: 50 of them stay in flight.
  // All 50 come from one address: the per-client share (a quarter of the slots) would refuse most.
  prepared = await databaseEnv(postgres.app, {
    DB_QUERY_TIMEOUT_MS: '20000',
    DB_CONNECT_TIMEOUT_MS: '20000',
    CLIENT_MAX_SHARE_PERCENT: '100',
  })
})
afterAll(() => prepared?.cleanup())

async function waitingForPool(port: number): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const busy = /^db_pool_connections\{pool="queries",state="in_use"\} (\d+)$/m.exec(metrics)?.[1]
  const waiting = /^db_pool_waiting_requests\{pool="queries"\} (\d+)$/m.exec(metrics)?.[1]
  return Number(busy ?? 0) + Number(waiting ?? 0)
}

describe('SIGHUP with requests in flight', () => {
  it('is a graceful stop like SIGTERM: every request in flight completes, and the exit code is 0', async () => {
    const service = spawnService(prepared.env)
    const { port } = (await service.waitForLog('listening')) as { port: number }
    const lock = await lockedTable(postgres.admin)
    let released: Promise<void> | undefined
    const release = () => {
      released ??= lock.release()
      return released
    }
    try {
      const inFlight = Array.from({ length: 50 }, () =>
        slowRequest(`http://127.0.0.1:${port}`, lock.schema).then(
          (response) => response.status,
          (error: Error) => error.message,
        ),
      )
      for (let tries = 0; tries < 100 && (await waitingForPool(port)) < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }

      service.child.kill('SIGHUP')
      setTimeout(() => void release(), 300)
      const statuses = await Promise.all(inFlight)
      const code = await service.exited
      console.log(
        `SIGHUP: ${statuses.filter((status) => status === 200).length} of ${statuses.length} in-flight requests answered 200; exit ${code}`,
      )

      expect(statuses).toEqual(Array(50).fill(200))
      expect(code).toBe(0)
      expect(service.stdout.join('\n')).toContain('"reason":"SIGHUP"')
    } finally {
      await release()
      service.child.kill('SIGKILL')
    }
  }, 60_000)
})

describe('SIGHUP just after start-up', () => {
  it('answers every connection already made, none is reset', async () => {
    const service = spawnService(prepared.env, { args: [...PRODUCTION_NODE_FLAGS, MAIN] })
    try {
      const { port } = (await service.waitForLog('listening')) as { port: number }
      // 30 clients connect and send at once, and the signal comes before the service can accept them all.
      const answers = Array.from({ length: 30 }, async (_, index) => {
        const socket = await connectFrom(port, loopbackAddress(80, index))
        const status = firstStatus(socket)
        socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        const reset = new Promise<string>((resolve) =>
          socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error')),
        )
        return Promise.race([status, reset])
      })
      service.child.kill('SIGHUP')
      const outcomes = await Promise.all(answers)
      const code = await service.exited
      console.log(`SIGHUP at start-up: 30 connections got ${tally(outcomes)}; exit ${code}`)

      expect(outcomes.filter((outcome) => typeof outcome !== 'number')).toEqual([])
      expect(code).toBe(0)
    } finally {
      service.child.kill('SIGKILL')
    }
  }, 60_000)
})
