import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dashboardQueries } from '../support/dashboard.js'
import { ROOT } from '../support/dockerfile.js'
import { startTestPostgres, type TestPostgres } from '../support/postgres.js'
import { type PrometheusAlert, type RunningPrometheus, startPrometheus } from '../support/prometheus.js'
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.js'
import { type RunningService, startService } from '../support/service.js'
import { startSlowProxy } from '../support/slow-proxy.js'

// The real chain: a Prometheus server scrapes the service (on its own PostgreSQL, which this file stops)
// with deploy/monitoring/alerts.yaml loaded. The rules' timings are promtool's job (monitoring.test.ts);
// here the two alerts this file triggers wait 5 s instead of minutes, so the wiring shows in seconds.
// Prometheus scrapes through a relay that records the bytes, to see how /metrics travels.
let postgres: TestPostgres
let relay: RecordingProxy
let service: RunningService
let serviceClosed = false
let prometheus: RunningPrometheus
let instance: string
const rulesDir = mkdtempSync(join(tmpdir(), 'ctera-test-rules-'))

beforeAll(async () => {
  const rules = readFileSync(resolve(ROOT, 'deploy/monitoring/alerts.yaml'), 'utf8')
  const quick = rules.replace('for: 1m', 'for: 5s').replace('for: 2m', 'for: 5s')
  if (quick.match(/for: 5s/g)?.length !== 2) throw new Error('alerts.yaml no longer has the two timings')
  writeFileSync(join(rulesDir, 'alerts.yaml'), quick)
  postgres = await startTestPostgres()
  service = await startService(postgres.app, { healthIntervalMs: 500 })
  relay = await startRecordingProxy({ host: '127.0.0.1', port: service.port })
  instance = relay.address
  prometheus = await startPrometheus({
    job: 'ctera-app',
    targets: [instance],
    ruleFiles: [join(rulesDir, 'alerts.yaml')],
  })
})
afterAll(async () => {
  await prometheus?.stop()
  await relay?.close()
  if (!serviceClosed) await service?.close()
  await postgres?.destroy()
  rmSync(rulesDir, { recursive: true, force: true })
})

/** Polls until `done` says yes, for at most `timeoutMs` (generous: the machine is shared). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 500))
    value = await read()
  }
  return value
}

/** Each waiting test may poll for a minute (until's bound) and still report what it saw. */
const WAITING_TEST_TIMEOUT_MS = 90_000

const ours = (alerts: PrometheusAlert[]) =>
  alerts.filter((alert) => alert.labels.alertname?.startsWith('CteraApp'))

// Runs first, while the file's database is up. A second service reaches that database through a relay that
// holds every packet 350 ms: each health check then takes about 0.7 s, over the 0.5 s of CteraAppDatabaseSlow,
// and a bounded load of slow queries keeps its small pool (DB_POOL_MAX=2) full for CteraAppPoolSaturated.
// Both rules wait 5 s here instead of 5 minutes; their expressions are the shipped ones.
describe('the slow-database and pool alerts on a real Prometheus', () => {
  let slowRelay: Awaited<ReturnType<typeof startSlowProxy>>
  let slowService: RunningService
  let slowPrometheus: RunningPrometheus
  let slowInstance: string
  let loading = false
  let load: Promise<unknown> = Promise.resolve()

  beforeAll(async () => {
    const rules = readFileSync(resolve(ROOT, 'deploy/monitoring/alerts.yaml'), 'utf8')
    const quick = rules.replaceAll('for: 5m', 'for: 5s')
    writeFileSync(join(rulesDir, 'slow-alerts.yaml'), quick)
    slowRelay = await startSlowProxy(postgres.app, 350)
    slowService = await startService(
      { ...postgres.app, host: '127.0.0.1', port: slowRelay.port },
      // The first connection crosses the relay a dozen times (start-up, SCRAM): give checks room.
      {
        poolMax: 2,
        healthIntervalMs: 500,
        connectTimeoutMs: 10_000,
        healthTimeoutMs: 10_000,
        queryTimeoutMs: 30_000,
      },
    )
    slowInstance = `127.0.0.1:${slowService.port}`
    slowPrometheus = await startPrometheus({
      job: 'ctera-app',
      targets: [slowInstance],
      ruleFiles: [join(rulesDir, 'slow-alerts.yaml')],
      // /metrics waits up to 1 s for a fresh db_tables, longer than the usual 1 s scrape allows when the
      // pool is full; a scrape's timeout is its interval.
      scrapeInterval: '3s',
    })
  })
  afterAll(async () => {
    loading = false
    await load
    await slowPrometheus?.stop()
    await slowService?.close()
    await slowRelay?.close()
  })

  const firing = (alerts: PrometheusAlert[], name: string) =>
    ours(alerts).find((alert) => alert.labels.alertname === name && alert.state === 'firing')

  it(
    'health checks slower than 0.5 s fire CteraAppDatabaseSlow, with its text',
    async () => {
      const alerts = await until(
        () => slowPrometheus.alerts(),
        (list) => firing(list, 'CteraAppDatabaseSlow') !== undefined,
      )

      expect(firing(alerts, 'CteraAppDatabaseSlow')).toEqual(
        expect.objectContaining({
          labels: expect.objectContaining({
            alertname: 'CteraAppDatabaseSlow',
            job: 'ctera-app',
            instance: slowInstance,
            severity: 'warning',
          }),
          annotations: expect.objectContaining({
            description: expect.stringMatching(/of the database health checks of .* took longer than 0\.5 s/),
          }),
        }),
      )
      // Slow, not down: every check succeeded.
      expect(firing(alerts, 'CteraAppDatabaseDown')).toBeUndefined()
    },
    WAITING_TEST_TIMEOUT_MS,
  )

  it(
    'queries holding every connection of a small pool fire CteraAppPoolSaturated, with its text',
    async () => {
      // Eight clients for two connections, each asking again as soon as it has its answer: four ask filtered
      // counts (GraphQL insight, which may use all of the pool but one connection; different schemas, as
      // identical counts would share one query) and four the seed's count (the connection kept for it).
      loading = true
      const ask = (path: string, init?: RequestInit) => async () => {
        while (loading) {
          await fetch(`${slowService.url}${path}`, init).then(
            (response) => response.text(),
            () => undefined,
          )
        }
      }
      const insight = (schema: string) =>
        ask('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: `{ numberOfTables(schema: "${schema}") }` }),
        })
      const clients = [...['s1', 's2', 's3', 's4'].map(insight), ...Array(4).fill(ask('/number_of_tables'))]
      load = Promise.all(clients.map((client) => client()))

      const alerts = await until(
        () => slowPrometheus.alerts(),
        (list) => firing(list, 'CteraAppPoolSaturated') !== undefined,
      )
      loading = false
      await load

      expect(firing(alerts, 'CteraAppPoolSaturated')).toEqual(
        expect.objectContaining({
          labels: {
            alertname: 'CteraAppPoolSaturated',
            job: 'ctera-app',
            instance: slowInstance,
            pool: 'queries',
            severity: 'warning',
          },
          annotations: expect.objectContaining({
            description: expect.stringMatching(/^100% of the query pool of .* has been in use for 5 minutes/),
          }),
        }),
      )
    },
    WAITING_TEST_TIMEOUT_MS,
  )
})

describe('the alerts and the dashboard on a real Prometheus scraping the service', () => {
  it(
    'every dashboard query returns data',
    async () => {
      // Scrapes come every second: a 10 s rate window holds enough of them.
      const queries = Object.values(dashboardQueries({ __rate_interval: '10s' }))

      const empty = await until(
        async () => {
          // Traffic of each kind the HTTP and GraphQL panels show, errors included.
          await fetch(`${service.url}/health`)
          await fetch(`${service.url}/graphql?query=${encodeURIComponent('{ numberOfTables }')}`)
          await fetch(`${service.url}/graphql?query=${encodeURIComponent('{ nope }')}`)
          const results = await Promise.all(queries.map((query) => prometheus.query(query.expr)))
          return queries.filter((_, index) => results[index]?.length === 0).map((query) => query.where)
        },
        (stillEmpty) => stillEmpty.length === 0,
      )

      expect(empty).toEqual([])
    },
    WAITING_TEST_TIMEOUT_MS,
  )

  it('Prometheus asks for /metrics gzipped and reads it so: a fraction of the bytes, every sample there', async () => {
    const plain = await (
      await fetch(`${service.url}/metrics`, { headers: { 'accept-encoding': 'identity' } })
    ).text()
    const [samples] = await prometheus.query('scrape_samples_scraped{job="ctera-app"}')

    // HTTP/1.1 answers, as they went over the wire from the service to Prometheus.
    const requests = relay.fromClients.toString('latin1').split(/\r\n(?=GET )/)
    const answers = relay.fromTarget
      .toString('latin1')
      .split(/(?=HTTP\/1\.1 )/)
      .filter(Boolean)
    const sizes = answers.map((answer) => Number(/\r\ncontent-length: (\d+)\r\n/i.exec(answer)?.[1]))

    expect(requests[0]).toMatch(/^GET \/metrics HTTP\/1\.1\r\n/)
    expect(requests[0]).toMatch(/\r\nAccept-Encoding: gzip\r\n/i)
    expect(answers.length).toBeGreaterThan(0)
    for (const answer of answers) expect(answer).toMatch(/\r\ncontent-encoding: gzip\r\n/i)
    // Measured: 47 KB plain, under 4 KB gzipped.
    expect(Math.max(...sizes)).toBeLessThan(plain.length / 5)
    // Every sample arrived (the count may differ by a series that appeared between two scrapes).
    const exported = plain.split('\n').filter((line) => line && !line.startsWith('#')).length
    expect(Math.abs(Number(samples?.value[1]) - exported)).toBeLessThanOrEqual(exported * 0.05)
  })

  it(
    'no ctera-app alert is pending or firing while the database is up',
    async () => {
      // On a busy machine one health check can time out (db_up 0 for a scrape): wait for the steady state.
      const up = await until(
        () => prometheus.query('db_up{job="ctera-app"}'),
        ([sample]) => sample?.value[1] === '1',
      )

      expect(up[0]?.value[1]).toBe('1')
      expect(ours(await prometheus.alerts()).filter((alert) => alert.state === 'firing')).toEqual([])
    },
    WAITING_TEST_TIMEOUT_MS,
  )

  it(
    'stopping the database fires CteraAppDatabaseDown for the service, with its text',
    async () => {
      await postgres.server.stop()

      const alerts = await until(
        () => prometheus.alerts(),
        (list) =>
          ours(list).some(
            (alert) => alert.labels.alertname === 'CteraAppDatabaseDown' && alert.state === 'firing',
          ),
      )

      // (A busy machine may add a pending flapping alert from a slow check; the outage alert must be there.)
      expect(ours(alerts).filter((alert) => alert.state === 'firing')).toEqual([
        expect.objectContaining({
          state: 'firing',
          labels: { alertname: 'CteraAppDatabaseDown', job: 'ctera-app', instance, severity: 'critical' },
          annotations: expect.objectContaining({
            description: expect.stringMatching(
              new RegExp(`^${instance} has failed every database health check`),
            ),
          }),
        }),
      ])
    },
    WAITING_TEST_TIMEOUT_MS,
  )

  it(
    'stopping the service replaces it with CteraAppTargetDown: no db_up, no database alert',
    async () => {
      await service.close()
      serviceClosed = true

      const alerts = await until(
        () => prometheus.alerts(),
        (list) => {
          const [only, ...others] = ours(list)
          return (
            others.length === 0 && only?.labels.alertname === 'CteraAppTargetDown' && only.state === 'firing'
          )
        },
      )

      expect(ours(alerts)).toEqual([
        expect.objectContaining({
          state: 'firing',
          labels: { alertname: 'CteraAppTargetDown', job: 'ctera-app', instance, severity: 'warning' },
        }),
      ])
    },
    WAITING_TEST_TIMEOUT_MS,
  )
})
