import { GraphQLClient } from 'graphql-request'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HealthHistoryDocument, HealthRoleDocument } from '../generated/operations.js'
import { caughtUp, type ReplicationPair, received, startReplicationPair } from '../support/replication.js'
import { type RunningService, type ServiceOptions, startService } from '../support/service.js'

// A real streaming replica built here (Debian's PostgreSQL: initdb, pg_basebackup -R, a standby on its
// own port). The services check every 200 ms with the default damping (3 failures, 2 successes).
let pair: ReplicationPair
const services: RunningService[] = []

beforeAll(async () => {
  pair = await startReplicationPair()
  // One replayed transaction, so the standby knows the time of its last replay.
  await pair.primary.sql('CREATE TABLE replicated (at timestamptz DEFAULT now())')
  await caughtUp(pair)
}, 120_000)
afterAll(async () => {
  await Promise.all(services.map((service) => service.close()))
  await pair?.destroy()
})

async function start(server: 'primary' | 'standby', options: ServiceOptions = {}) {
  // Stale after 20 intervals (4 s), not 3: on a loaded machine a few slow checks must not read as "stale".
  const service = await startService(pair[server].app, {
    healthIntervalMs: 200,
    healthStaleIntervals: 20,
    ...options,
  })
  services.push(service)
  return service
}

async function health(service: RunningService) {
  return (await new GraphQLClient(`${service.url}/graphql`).request(HealthRoleDocument)).health
}

async function latestTransition(service: RunningService) {
  const { healthHistory } = await new GraphQLClient(`${service.url}/graphql`).request(HealthHistoryDocument, {
    first: 1,
  })
  return healthHistory.transitions.nodes
}

async function readyz(service: RunningService) {
  const response = await fetch(`${service.url}/readyz`)
  return { status: response.status, body: await response.json() }
}

/** The /metrics samples: `name{labels}` -> value. */
async function metrics(service: RunningService): Promise<Map<string, number>> {
  const text = await (await fetch(`${service.url}/metrics`)).text()
  const samples = new Map<string, number>()
  for (const [, series, value] of text.matchAll(/^([a-z_]+(?:\{[^}]*\})?) (\S+)$/gm)) {
    if (series && value) samples.set(series, Number(value))
  }
  return samples
}

/** Polls until `done` holds, for at most 20 s (the machine is shared); returns the last value read. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    value = await read()
  }
  return value
}

describe('primary or standby, against a real streaming replica', () => {
  it('the pair is what the test thinks: one primary, one standby', async () => {
    const [primary] = await pair.primary.sql<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')
    const [standby] = await pair.standby.sql<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')

    expect(primary?.standby).toBe(false)
    expect(standby?.standby).toBe(true)
  })

  it('reports PRIMARY with no lag on the primary, as GraphQL and metrics', async () => {
    const service = await start('primary')

    const report = await health(service)
    await until(
      () => readyz(service),
      (ready) => ready.status === 200,
    )
    const exposition = await metrics(service)

    expect(report).toEqual({ healthy: true, role: 'PRIMARY', replayLagSeconds: null })
    expect(exposition.get('db_is_standby')).toBe(0)
    expect(exposition.get('db_replay_lag_seconds')).toBe(0)
  })

  it('reports STANDBY with its lag (0 when caught up), and is ready by default', async () => {
    const service = await start('standby')
    await caughtUp(pair)

    const ready = await until(
      () => readyz(service),
      (value) => value.status === 200,
    )
    // A WAL record that arrives (the primary logs running transactions every 15 s even when idle) reads as
    // lag until it is replayed, a moment later: wait for a caught-up reading, at most 20 s.
    const { report, exposition } = await until(
      async () => ({ report: await health(service), exposition: await metrics(service) }),
      (value) => value.report.replayLagSeconds === 0 && value.exposition.get('db_replay_lag_seconds') === 0,
    )
    const healthJson = await (
      await fetch(`${service.url}/health`, { headers: { accept: 'application/health+json' } })
    ).json()

    expect(report).toEqual({ healthy: true, role: 'STANDBY', replayLagSeconds: 0 })
    expect(ready.body).toEqual({ status: 'ready' })
    expect(exposition.get('db_is_standby')).toBe(1)
    expect(exposition.get('db_replay_lag_seconds')).toBe(0)
    expect(healthJson.status).toBe('pass')
    expect(healthJson.checks['postgresql:role'][0]).toMatchObject({
      observedValue: 'standby',
      status: 'pass',
    })
    expect(healthJson.checks['postgresql:replayLag'][0]).toMatchObject({
      observedValue: 0,
      observedUnit: 's',
    })
  })

  it('HEALTH_REQUIRE_PRIMARY: a standby is not ready ("not primary"), while /health keeps the seed meaning', async () => {
    const service = await start('standby', { healthRequirePrimary: true })

    const ready = await until(
      () => readyz(service),
      (value) => value.body.reason === 'not primary',
    )
    const health = await fetch(`${service.url}/health`)
    const healthJson = await (await fetch(`${service.url}/healthz`)).json()

    expect(ready).toEqual({ status: 503, body: { status: 'not ready', reason: 'not primary' } })
    expect(health.status).toBe(200)
    expect(healthJson.status).toBe('warn')
    expect(healthJson.checks['postgresql:role'][0]).toMatchObject({
      observedValue: 'standby',
      status: 'warn',
    })
  })
})

describe('replay lag, with replay paused on the real standby (pg_wal_replay_pause)', () => {
  let service: RunningService

  beforeAll(async () => {
    service = await start('standby', { healthMaxReplayLagMs: 1000 })
    await until(
      () => readyz(service),
      (value) => value.status === 200,
    )
  })
  afterAll(() => pair.standby.sql('SELECT pg_wal_replay_resume()'))

  it('turns not ready ("replica lagging") once the lag passes HEALTH_MAX_REPLAY_LAG_MS, and reports it', async () => {
    await pair.standby.sql('SELECT pg_wal_replay_pause()')
    // The last replayed transaction is now at least 1.5 s old when the next one arrives unreplayed.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await pair.primary.sql('INSERT INTO replicated DEFAULT VALUES')
    await received(pair)

    const ready = await until(
      () => readyz(service),
      (value) => value.body.reason === 'replica lagging',
    )
    const report = await health(service)
    const exposition = await metrics(service)
    const transitions = await latestTransition(service)

    expect(ready.body).toEqual({ status: 'not ready', reason: 'replica lagging' })
    expect(report.role).toBe('STANDBY')
    expect(report.replayLagSeconds).toBeGreaterThan(1)
    expect(exposition.get('db_replay_lag_seconds')).toBeGreaterThan(1)
    expect(transitions).toMatchObject([{ healthy: false, reason: 'replica lagging' }])
    expect(exposition.get('db_health_transitions_total{to="unhealthy",reason="replica lagging"}')).toBe(1)
  })

  it('the lag grows while replay stays paused', async () => {
    const first = (await health(service)).replayLagSeconds ?? Number.NaN
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const second = (await health(service)).replayLagSeconds ?? Number.NaN

    expect(second).toBeGreaterThan(first + 0.5)
  })

  it('is ready again once replay resumes and catches up, and logs each change once', async () => {
    await pair.standby.sql('SELECT pg_wal_replay_resume()')
    await caughtUp(pair)

    const ready = await until(
      () => readyz(service),
      (value) => value.status === 200,
    )
    const report = await health(service)
    const messages = service.logs.map((line) => line.msg)

    expect(ready.body).toEqual({ status: 'ready' })
    expect(report.replayLagSeconds).toBe(0)
    expect(messages.filter((msg) => msg === 'database does not meet the readiness policy')).toHaveLength(1)
    expect(messages.filter((msg) => msg === 'database meets the readiness policy again')).toHaveLength(1)
  })
})

describe('promotion of the real standby (pg_promote)', () => {
  it('a service that requires a primary turns ready once its standby is promoted, and reports PRIMARY', async () => {
    const service = await start('standby', { healthRequirePrimary: true })
    await until(
      () => readyz(service),
      (value) => value.body.reason === 'not primary',
    )

    const [promoted] = await pair.standby.sql<{ done: boolean }>('SELECT pg_promote(true, 30) AS done')
    const ready = await until(
      () => readyz(service),
      (value) => value.status === 200,
    )
    const report = await health(service)
    const exposition = await metrics(service)

    expect(promoted?.done).toBe(true)
    expect(ready.body).toEqual({ status: 'ready' })
    expect(report).toEqual({ healthy: true, role: 'PRIMARY', replayLagSeconds: null })
    expect(exposition.get('db_is_standby')).toBe(0)
  })
})
