import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectionSettings } from '../../src/config/database-target.js'
import { type TestPostgres, withClient } from '../support/postgres.js'
import { type RunningService, startServiceOnOwnPostgres } from '../support/service.js'

// "Healthy" means a new working connection can be had now: reported within one monitor interval plus
// the check's timeout of the moment the database stops accepting new connections.
const INTERVAL_MS = 500
const TIMEOUT_MS = 700
const DEADLINE_MS = INTERVAL_MS + TIMEOUT_MS

let postgres: TestPostgres
let service: RunningService
let close: () => Promise<void>
let cleanups: Array<() => Promise<void> | void> = []

beforeAll(async () => {
  ;({ postgres, service, close } = await startServiceOnOwnPostgres({
    healthIntervalMs: INTERVAL_MS,
    healthTimeoutMs: TIMEOUT_MS,
    connectTimeoutMs: TIMEOUT_MS,
    postgresSettings: { max_connections: '12', superuser_reserved_connections: '3' },
  }))
  await withClient(postgres.admin, (client) => client.query('CREATE ROLE filler LOGIN PASSWORD $$filler$$'))
})
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  cleanups = []
})
afterAll(() => close?.())

async function status(path: string): Promise<number> {
  const response = await fetch(`${service.url}${path}`, { signal: AbortSignal.timeout(5000) })
  await response.arrayBuffer()
  return response.status
}

/**
 * Polls /health and /readyz until both answer `expected`: the milliseconds until the later of the two
 * did (each timed at its answer, as a prober would see it), or undefined.
 */
async function until(expected: number, withinMs: number): Promise<number | undefined> {
  const started = performance.now()
  const since: Record<string, number | undefined> = {}
  const poll = async (path: string) => {
    const answer = await status(path)
    if (answer !== expected) since[path] = undefined
    else since[path] ??= performance.now() - started
  }
  while (performance.now() - started < withinMs) {
    await Promise.all([poll('/health'), poll('/readyz')])
    const health = since['/health']
    const ready = since['/readyz']
    if (health !== undefined && ready !== undefined) return Math.max(health, ready)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return undefined
}

async function postmasterPid(admin: ConnectionSettings): Promise<number> {
  const dataDir = await withClient(
    admin,
    async (client) => (await client.query('SHOW data_directory')).rows[0],
  )
  return Number(readFileSync(join(dataDir.data_directory, 'postmaster.pid'), 'utf8').split('\n')[0])
}

describe('health means a new connection can be had now', () => {
  it('turns 503 within one interval plus the timeout when the postmaster is frozen, and recovers', async () => {
    expect(await until(200, 5000)).toBeDefined()
    // An established session keeps working while the postmaster is stopped: only new connections hang.
    const existing = new pg.Client({ ...postgres.admin })
    await existing.connect()
    cleanups.push(() => existing.end())
    const pid = await postmasterPid(postgres.admin)

    process.kill(pid, 'SIGSTOP')
    cleanups.push(() => void process.kill(pid, 'SIGCONT'))
    const existingStillAnswers = await existing.query('SELECT 1 AS one')
    const unhealthyAfter = await until(503, 10_000)
    const reason = service.monitor.latest?.reason
    process.kill(pid, 'SIGCONT')
    const healthyAfter = await until(200, 10_000)
    console.log(
      `frozen postmaster: /health and /readyz 503 after ${unhealthyAfter?.toFixed(0)} ms (reason ${reason}); ` +
        `200 again ${healthyAfter?.toFixed(0)} ms after it resumed`,
    )

    expect(existingStillAnswers.rows).toEqual([{ one: 1 }])
    expect(unhealthyAfter).toBeDefined()
    // The deadline is the feature; the margin is for a busy machine.
    expect(unhealthyAfter).toBeLessThan(DEADLINE_MS + 1500)
    expect(reason).toBe('timeout')
    expect(healthyAfter).toBeDefined()
  }, 40_000)

  it('turns 503 with "too many connections" when another client takes every free slot, and recovers', async () => {
    expect(await until(200, 5000)).toBeDefined()
    // Another client grabs every connection slot it can, and any that frees up (bounded: 30 s).
    const held: pg.Client[] = []
    let filling = true
    const filler = (async () => {
      const started = Date.now()
      while (filling && Date.now() - started < 30_000) {
        const client = new pg.Client({ ...postgres.admin, user: 'filler', password: 'filler' })
        try {
          await client.connect()
          held.push(client)
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
      }
    })()
    cleanups.push(async () => {
      filling = false
      await filler
      await Promise.all(held.map((client) => client.end().catch(() => undefined)))
    })
    const tables = await fetch(`${service.url}/number_of_tables`)

    const unhealthyAfter = await until(503, 10_000)
    const reason = service.monitor.latest?.reason
    filling = false
    await filler
    const heldCount = held.length
    await Promise.all(held.splice(0).map((client) => client.end()))
    const healthyAfter = await until(200, 10_000)
    console.log(
      `connection slots taken (${heldCount} held by another role): /health and /readyz 503 after ` +
        `${unhealthyAfter?.toFixed(0)} ms (reason ${reason}); /number_of_tables ${tables.status}; ` +
        `200 again ${healthyAfter?.toFixed(0)} ms after they were freed`,
    )

    expect(unhealthyAfter).toBeDefined()
    expect(unhealthyAfter).toBeLessThan(DEADLINE_MS + 1500)
    expect(reason).toBe('too many connections')
    expect(healthyAfter).toBeDefined()
  }, 40_000)

  it('does not open a connection per request under a probe storm', async () => {
    expect(await until(200, 5000)).toBeDefined()
    const sessions = () =>
      withClient(postgres.admin, async (client) => {
        const { rows } = await client.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE usename = 'ctera'",
        )
        return rows.map((row) => row.pid)
      })
    const seen = new Set(await sessions())
    let requests = 0
    let newSessions = 0

    const started = performance.now()
    for (let round = 0; round < 20; round++) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => status('/health')))
      // 200, or 503 when a check times out on a busy machine: either way an answer, not an error.
      requests += answers.filter((answer) => answer === 200 || answer === 503).length
      await new Promise((resolve) => setTimeout(resolve, 100))
      for (const pid of await sessions()) {
        if (!seen.has(pid)) newSessions++
        seen.add(pid)
      }
    }
    const seconds = (performance.now() - started) / 1000
    console.log(
      `probe storm: ${requests} /health answers in ${seconds.toFixed(1)} s opened ${newSessions} connections`,
    )

    expect(requests).toBe(1000)
    // One new connection per interval at most (plus one of slack), never one per request.
    expect(newSessions).toBeLessThanOrEqual(Math.ceil((seconds * 1000) / INTERVAL_MS) + 1)
  }, 60_000)
})
