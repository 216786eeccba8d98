import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ACCEPTS,
  DATABASE_PARAMS,
  fixedCorpus,
  get,
  JSON_ACCEPTS,
  PARAMS,
  post,
  requestArbitrary,
} from '../support/graphql-corpus.js'
import { startTestPostgres, type TestPostgres, withClient } from '../support/postgres.js'
import { type RawAnswer, type RawRequest, sendRaw } from '../support/raw-http.js'
import type { ServiceOptions } from '../support/service.js'
import { type RunningService, startService } from '../support/service.js'

/**
 * The fast path (src/graphql/fast-path.ts) must answer every request with the bytes yoga's own path
 * gives: the same service started twice, with the fast path and without it, on one PostgreSQL of this
 * file's own (one phase takes a privilege away, the last stops it). Each request goes twice to each:
 * the fast path leaves a document it has not seen to yoga, so the second call is the one it answers.
 */

interface Pair {
  name: string
  fast: RunningService
  yoga: RunningService
  /** Requests the fast path answered itself (not handed to yoga). */
  fastAnswers: () => number
}

let postgres: TestPostgres
const pairs: Pair[] = []

async function startPair(name: string, options: ServiceOptions): Promise<Pair> {
  const fast = await startService(postgres.app, { monitor: false, ...options })
  const yoga = await startService(postgres.app, { monitor: false, graphqlFastPath: false, ...options })
  const pair = { name, fast, yoga, fastAnswers: () => fast.app.graphqlFastPathAnswers }
  pairs.push(pair)
  return pair
}

beforeAll(async () => {
  postgres = await startTestPostgres()
})

afterAll(async () => {
  for (const pair of pairs) await Promise.all([pair.fast.close(), pair.yoga.close()])
  await postgres?.destroy()
})

/** What must be equal: the status line, the headers but Date and the request id, the body's bytes. */
function comparable(answer: RawAnswer) {
  return {
    status: answer.status,
    statusMessage: answer.statusMessage,
    headers: answer.headers.filter(([name]) => name !== 'date' && name !== 'x-request-id'),
    body: answer.body.toString('latin1'),
  }
}

/** Sends `request` twice to each service of the pair; returns the first difference, if any. */
async function differences(pair: Pair, request: RawRequest): Promise<string | undefined> {
  for (let call = 1; call <= 2; call++) {
    const [fast, yoga] = await Promise.all([sendRaw(pair.fast.url, request), sendRaw(pair.yoga.url, request)])
    const fastSide = comparable(fast)
    const yogaSide = comparable(yoga)
    if (JSON.stringify(fastSide) !== JSON.stringify(yogaSide))
      return `${pair.name}, call ${call}: ${JSON.stringify(request)}\nfast path: ${JSON.stringify(fastSide)}\nyoga:      ${JSON.stringify(yogaSide)}`
  }
  return undefined
}

/**
 * Runs the corpus a few requests at a time; every difference is reported, not only the first. With
 * `attempts` above 1, a request whose answers differ is sent again: for the dead database, whose failure
 * reason (refused or timed out) can change between two calls on a loaded machine, a difference the two
 * paths make repeats every time, and one the database makes does not.
 */
async function compareAll(pair: Pair, corpus: RawRequest[], attempts = 1): Promise<string[]> {
  const found: string[] = []
  const compare = async (request: RawRequest) => {
    let difference = await differences(pair, request)
    for (let attempt = 1; difference && attempt < attempts; attempt++)
      difference = await differences(pair, request)
    return difference
  }
  for (let start = 0; start < corpus.length; start += 8) {
    const batch = corpus.slice(start, start + 8)
    for (const difference of await Promise.all(batch.map(compare))) if (difference) found.push(difference)
  }
  return found
}

/** The GraphQL and HTTP counters of /metrics (not durations): the same requests must count the same. */
async function counters(service: RunningService): Promise<string[]> {
  const text = await (await fetch(`${service.url}/metrics`)).text()
  return text
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('graphql_errors_total') ||
        line.startsWith('graphql_request_duration_seconds_count') ||
        line.startsWith('http_request_duration_seconds_count'),
    )
    .map((line) =>
      line.replace(/^http_request_duration_seconds_count(\{[^}]*route="\/metrics"[^}]*\}).*$/, ''),
    )
    .filter(Boolean)
}

describe('the GraphQL fast path answers as yoga does', () => {
  it('over the fixed corpus, development settings (GraphiQL, introspection, suggestions)', async () => {
    const pair = await startPair('development', {})
    const corpus = fixedCorpus()
    expect(corpus.length).toBeGreaterThanOrEqual(500)

    expect(await compareAll(pair, corpus)).toEqual([])
    // Without this, a rule that never chose the fast path would pass every comparison above.
    expect(pair.fastAnswers()).toBeGreaterThan(400)
    expect(await counters(pair.fast)).toEqual(await counters(pair.yoga))
  }, 300_000)

  it('with production settings and a CORS allow-list (Vary: Origin, no introspection, no suggestions)', async () => {
    const pair = await startPair('production', {
      production: true,
      introspection: false,
      graphiql: false,
      corsOrigins: ['https://app.example'],
    })
    const corpus = PARAMS.flatMap((params) =>
      [undefined, ...JSON_ACCEPTS, '*/*'].flatMap((accept) => [post(params, accept), get(params, accept)]),
    )

    expect(await compareAll(pair, corpus)).toEqual([])
    expect(pair.fastAnswers()).toBeGreaterThan(100)
  }, 300_000)

  it('over generated requests (fast-check, seeded; the seed is printed)', async () => {
    const pair = pairs[0] as Pair
    const seed = Number(process.env.FAST_PATH_SEED ?? Math.floor(Math.random() * 2 ** 31))
    console.log(`graphql fast path: fast-check seed ${seed} (FAST_PATH_SEED=${seed} repeats this run)`)
    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (request) => {
        const difference = await differences(pair, request)
        if (difference) throw new Error(`${difference}\nseed: ${seed}`)
      }),
      { seed, numRuns: 200 },
    )
  }, 300_000)

  it('when an unexpected error is masked (the service role lost a function it uses)', async () => {
    await withClient(postgres.admin, (client) =>
      client.query('REVOKE EXECUTE ON FUNCTION pg_database_size(name) FROM PUBLIC'),
    )
    try {
      const corpus = DATABASE_PARAMS.flatMap((params) =>
        ACCEPTS.slice(0, 7).flatMap((accept) => [post(params, accept), get(params, accept)]),
      )
      for (const pair of pairs) expect(await compareAll(pair, corpus)).toEqual([])
      const masked = await sendRaw(pairs[0]?.fast.url ?? '', post(DATABASE_PARAMS[0]))
      expect(masked.body.toString()).toContain('Unexpected error.')
    } finally {
      await withClient(postgres.admin, (client) =>
        client.query('GRANT EXECUTE ON FUNCTION pg_database_size(name) TO PUBLIC'),
      )
    }
  }, 300_000)

  it('when the database is down', async () => {
    await postgres.server.stop()
    const corpus = [...DATABASE_PARAMS, ...PARAMS.slice(0, 6)].flatMap((params) =>
      ACCEPTS.slice(0, 7).flatMap((accept) => [post(params, accept), get(params, accept)]),
    )
    for (const pair of pairs) expect(await compareAll(pair, corpus, 3)).toEqual([])
    const down = await sendRaw(pairs[0]?.fast.url ?? '', post({ query: '{ numberOfTables }' }))
    expect(down.body.toString()).toContain('DATABASE_UNAVAILABLE')
  }, 300_000)
})
