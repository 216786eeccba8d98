import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPostgres, type TestPostgres } from '../support/postgres.js'
import { MAIN, PRODUCTION_NODE_FLAGS, startServiceProcess } from '../support/process.js'

// Issue 20's row: 64 clients at once ask for a heavy catalog page, over and over, while scripts read the
// seed's routes. The service runs as `npm start` runs it (production flags), once with the default pool
// (DB_POOL_MAX=10), and once with a pool so small and a wait so short (the shorter of DB_CONNECT_TIMEOUT_MS
// and DB_QUERY_TIMEOUT_MS) that it is saturated whatever the machine's load. Connecting and the health check
// get 10 s: a machine starved so that connecting takes seconds is an outage by the service's own
// definition, and this test is about a busy pool, not a starved machine. (The regression itself, a full
// share answered as busy while /number_of_tables keeps its connection, is pinned by pool-exhaustion.test.ts.)
// `npm run test:faults` runs 6 rounds (384 answers) of each, `npm test` 2.
const SCALE = Number(process.env.CTERA_FAULT_SCALE ?? '0.2')
const ROUNDS = Math.max(2, Math.round(6 * SCALE))
const CLIENTS = 64
const HEAVY = JSON.stringify({
  query:
    '{ database { tables(first: 150) { totalCount nodes { name schema kind sizeBytes rowEstimate } } } }',
})

// A PostgreSQL of its own: the pages list every table the role sees, and other files lock tables of the
// shared one (and kill the sessions waiting on them) on purpose.
let postgres: TestPostgres
beforeAll(async () => {
  postgres = await startTestPostgres()
}, 120_000)
afterAll(() => postgres?.destroy())

interface Answer {
  status: number
  codes: string[]
  reasons: string[]
  complete: boolean
}

async function heavyQuery(url: string): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: HEAVY,
  })
  const body = (await response.json()) as {
    data?: { database?: { tables?: { nodes?: unknown[] } | null } | null }
    errors?: Array<{ extensions?: { code?: string; reason?: string } }>
  }
  return {
    status: response.status,
    codes: (body.errors ?? []).map((error) => error.extensions?.code ?? 'none'),
    reasons: (body.errors ?? []).map((error) => error.extensions?.reason ?? 'none'),
    complete: !body.errors && (body.data?.database?.tables?.nodes?.length ?? 0) > 0,
  }
}

async function seedRoute(url: string, path: string) {
  const response = await fetch(`${url}${path}`)
  return { path, status: response.status, body: await response.text() }
}

describe.each<{ pool: string; env: Record<string, string> }>([
  { pool: 'the default pool', env: {} },
  { pool: 'a saturated pool', env: { DB_POOL_MAX: '2', DB_QUERY_TIMEOUT_MS: '1000' } },
])(`${CLIENTS} clients asking for heavy catalog pages at once, $pool`, ({ pool, env }) => {
  let url: string
  let stop: () => Promise<void>
  beforeAll(async () => {
    const started = await startServiceProcess(
      postgres.app,
      {
        NODE_ENV: 'production',
        DB_CONNECT_TIMEOUT_MS: '10000',
        HEALTH_TIMEOUT_MS: '10000',
        // The 64 clients all come from 127.0.0.1: no per-client share, or 48 of them would get 429.
        CLIENT_MAX_SHARE_PERCENT: '100',
        ...env,
      },
      { args: [...PRODUCTION_NODE_FLAGS, MAIN] },
    )
    url = `http://127.0.0.1:${started.port}`
    stop = started.stop
  })
  afterAll(() => stop?.())

  it('get their pages or DATABASE_BUSY, never DATABASE_UNAVAILABLE, and the seed\u2019s routes keep answering 200', async () => {
    let loading = true
    const seedAnswers: Array<Awaited<ReturnType<typeof seedRoute>>> = []
    // Samples for as long as the load lasts, and at least once while it is on.
    const sampler = (async () => {
      while (loading || seedAnswers.length < 2) {
        seedAnswers.push(await seedRoute(url, '/number_of_tables'), await seedRoute(url, '/health'))
      }
    })()
    const answers: Answer[] = []
    for (let round = 0; round < ROUNDS; round++) {
      answers.push(...(await Promise.all(Array.from({ length: CLIENTS }, () => heavyQuery(url)))))
    }
    loading = false
    await sampler

    const codes = answers.flatMap((answer) => answer.codes)
    const tally = (values: string[]) =>
      Object.fromEntries(
        [...new Set(values)].map((value) => [value, values.filter((v) => v === value).length]),
      )
    console.log(
      `busy database, ${pool}: ${answers.length} heavy answers, ${answers.filter((answer) => answer.complete).length} complete, ` +
        `errors ${JSON.stringify(tally(answers.flatMap((answer) => answer.codes.map((code, i) => `${code}:${answer.reasons[i]}`))))}; ` +
        `seed routes ${JSON.stringify(tally(seedAnswers.map((answer) => `${answer.path} ${answer.status}`)))}`,
    )
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200))
    expect(codes.filter((code) => code !== 'DATABASE_BUSY')).toEqual([])
    expect(answers.filter((answer) => answer.complete).length).toBeGreaterThan(0)
    expect(seedAnswers.filter((answer) => answer.status !== 200)).toEqual([])
    expect(seedAnswers.filter((answer) => answer.path === '/number_of_tables')[0]?.body).toMatch(
      /^\{"number_of_tables":"\d+"\}\n$/,
    )
  })
})
