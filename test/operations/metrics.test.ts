import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestPostgres, withClient } from '../support/postgres.js'
import { type RunningService, startServiceOnOwnPostgres } from '../support/service.js'

let postgres: TestPostgres
let service: RunningService
let close: () => Promise<void>

beforeAll(async () => {
  ;({ postgres, service, close } = await startServiceOnOwnPostgres({ healthIntervalMs: 200 }))
})
afterAll(() => close?.())

async function scrape(): Promise<{ text: string; contentType: string | null }> {
  const response = await fetch(`${service.url}/metrics`)
  return { text: await response.text(), contentType: response.headers.get('content-type') }
}

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

async function until(predicate: () => Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && !(await predicate()))
    await new Promise((resolve) => setTimeout(resolve, 50))
}

describe('GET /metrics', () => {
  it('serves the Prometheus text format with the database, pool, HTTP, GraphQL and process metrics', async () => {
    await fetch(`${service.url}/health`)
    await fetch(`${service.url}/graphql?query=${encodeURIComponent('{ numberOfTables }')}`)
    await fetch(`${service.url}/graphql?query=${encodeURIComponent('{ nope }')}`)
    await until(async () => sample((await scrape()).text, 'db_up') === 1)
    const expectedTables = await withClient(postgres.app, async (client) =>
      Number((await client.query('SELECT count(*) FROM information_schema.tables')).rows[0].count),
    )

    const { text, contentType } = await scrape()

    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(sample(text, 'db_up')).toBe(1)
    expect(sample(text, 'db_tables')).toBe(expectedTables)
    expect(sample(text, 'db_health_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60)
    expect(sample(text, 'db_health_check_duration_seconds_count', '{result="healthy"}')).toBeGreaterThan(0)
    expect(sample(text, 'db_tables_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60)
    // Open connections split by state, so that sum() over state is the number open; the limits and the
    // waiting requests are metrics of their own.
    expect(text).not.toMatch(/db_pool_connections\{[^}]*state="(max|total|waiting)"/)
    expect(sample(text, 'db_pool_connections', '{pool="health",state="in_use"}')).toBeGreaterThanOrEqual(0)
    expect(sample(text, 'db_pool_connections', '{pool="health",state="idle"}')).toBeGreaterThanOrEqual(0)
    expect(sample(text, 'db_pool_max_connections', '{pool="queries"}')).toBe(5)
    expect(sample(text, 'db_pool_max_connections', '{pool="health"}')).toBe(1)
    expect(sample(text, 'db_pool_waiting_requests', '{pool="queries"}')).toBe(0)
    expect(
      sample(text, 'http_request_duration_seconds_count', '{method="GET",route="/health",status="200"}'),
    ).toBe(1)
    expect(sample(text, 'graphql_request_duration_seconds_count', '{operation_type="query"}')).toBe(1)
    expect(sample(text, 'graphql_errors_total', '{operation_type="query",phase="validate"}')).toBe(1)
    // The other phases exist from the start, at 0 (the dashboard's "errors by phase" draws them).
    expect(sample(text, 'graphql_errors_total', '{operation_type="query",phase="execute"}')).toBe(0)
    expect(sample(text, 'graphql_errors_total', '{operation_type="unknown",phase="parse"}')).toBe(0)
    expect(sample(text, 'graphql_errors_total', '{operation_type="subscription",phase="execute"}')).toBe(0)
    expect(sample(text, 'db_is_standby')).toBe(0)
    expect(sample(text, 'db_replay_lag_seconds')).toBe(0)
    expect(sample(text, 'db_health_transitions_total', '{to="healthy",reason="ok"}')).toBe(1)
    expect(sample(text, 'db_health_transitions_total', '{to="unhealthy",reason="connection refused"}')).toBe(
      0,
    )
    expect(sample(text, 'db_health_last_transition_timestamp_seconds')).toBeGreaterThan(
      Date.now() / 1000 - 60,
    )
    expect(text).toContain('process_resident_memory_bytes')
    expect(text).toContain('nodejs_eventloop_lag_seconds')
  })

  it("exports each route's usual answers at 0 from the start, so the first error is an increase", async () => {
    const { text } = await scrape()

    for (const [route, status] of [
      ['/health', 503],
      ['/number_of_tables', 503],
      ['/readyz', 503],
      ['/livez', 500],
      ['/openapi.json', 304],
    ] as const)
      expect(
        sample(
          text,
          'http_request_duration_seconds_count',
          `{method="GET",route="${route}",status="${status}"}`,
        ),
        `${route} ${status}`,
      ).toBe(0)
    for (const status of [400, 413, 500, 503])
      expect(
        sample(
          text,
          'http_request_duration_seconds_count',
          `{method="POST",route="/graphql",status="${status}"}`,
        ),
      ).toBe(0)
  })

  it('passes promtool check metrics', async () => {
    const { text } = await scrape()

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })

    expect(check.error).toBeUndefined()
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('')
    expect(check.status).toBe(0)
  })

  it('promtool can fail: it reports a malformed exposition', () => {
    const check = spawnSync('promtool', ['check', 'metrics'], { input: 'bad metric{ 1\n', encoding: 'utf8' })

    expect(check.status).not.toBe(0)
  })

  it('keeps label values bounded: unknown paths and methods share one series', async () => {
    for (const path of ['/a', '/b', '/c?x=1']) await fetch(`${service.url}${path}`)
    await fetch(`${service.url}/health`, { method: 'PROPFIND' }).catch(() => undefined)

    const { text } = await scrape()

    expect(
      sample(text, 'http_request_duration_seconds_count', '{method="GET",route="unmatched",status="404"}'),
    ).toBe(3)
    expect(text).not.toMatch(/route="\/a"/)
    expect(text).toMatch(/method="other",route="\/health",status="405"/)
  })

  it('says db_up 0 honestly once connecting fails, and 1 again after recovery; counts each transition once; db_tables says how old it is', async () => {
    const before = await scrape()
    await postgres.server.stop()
    // The monitor's confirmed state, not readiness: the stale cap can turn readiness first at this interval.
    await until(async () => service.monitor.state.healthy === false)
    const down = await scrape()
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const laterDown = await scrape()
    await postgres.server.start()
    await until(async () => service.monitor.state.healthy === true, 10_000)
    const up = await scrape()
    const transitions = (text: string, labels: string) =>
      sample(text, 'db_health_transitions_total', labels) ?? 0

    expect(sample(down.text, 'db_up')).toBe(0)
    expect(
      sample(down.text, 'db_health_check_duration_seconds_count', '{result="unhealthy"}'),
    ).toBeGreaterThan(0)
    // While down, db_tables keeps the last count, and its timestamp stops: the count grows old.
    const countedAt = (text: string) => sample(text, 'db_tables_last_success_timestamp_seconds') ?? 0
    expect(sample(laterDown.text, 'db_tables')).toBe(sample(before.text, 'db_tables'))
    expect(countedAt(laterDown.text)).toBe(countedAt(down.text))
    expect(countedAt(down.text)).toBeLessThan(Date.now() / 1000 - 1)
    expect(sample(up.text, 'db_up')).toBe(1)
    expect(countedAt(up.text)).toBeGreaterThan(countedAt(laterDown.text))
    // Whatever the reason (refused, lost, not accepting connections while it stops): one transition.
    const lost = (text: string) =>
      [...text.matchAll(/^db_health_transitions_total\{to="unhealthy",reason="[^"]+"\} (\d+)$/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      )
    expect(lost(down.text) - lost(before.text)).toBe(1)
    expect(transitions(up.text, '{to="healthy",reason="ok"}')).toBe(
      transitions(before.text, '{to="healthy",reason="ok"}') + 1,
    )
    expect(sample(up.text, 'db_health_last_transition_timestamp_seconds')).toBeGreaterThan(
      sample(before.text, 'db_health_last_transition_timestamp_seconds') ?? Number.POSITIVE_INFINITY,
    )
  })

  it('is gzipped for a client that asks, as Prometheus does', async () => {
    const response = await fetch(`${service.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } })
    const raw = await fetch(`${service.url}/metrics`, { headers: { 'accept-encoding': 'identity' } })

    expect(response.headers.get('content-encoding')).toBe('gzip')
    expect(response.headers.get('vary')).toBe('Accept-Encoding')
    expect(await response.text()).toContain('db_up ')
    expect(raw.headers.get('content-encoding')).toBeNull()
  })
})
