import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { findFreePort } from '../../src/net/free-port.js'
import { lockedTable, slowRequest } from '../support/postgres.js'
import { CONTAINER_NAME, type RunningService, startService } from '../support/service.js'
import { startSlowProxy } from '../support/slow-proxy.js'

const postgres = inject('postgres')
const packageVersion = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version
const services: RunningService[] = []
let healthy: RunningService

beforeAll(async () => {
  // A busy machine can make a check take half a second: `pass` must not depend on it (warn is tested below).
  healthy = await startService(postgres.app, { healthWarnLatencyMs: 10_000 })
  services.push(healthy)
})
afterAll(() => Promise.all(services.map((service) => service.close())))

async function start(options: Parameters<typeof startService>[1], settings = postgres.app) {
  const service = await startService(settings, options)
  services.push(service)
  return service
}

async function get(url: string, accept?: string) {
  const response = await fetch(url, { headers: accept ? { accept } : {} })
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    vary: response.headers.get('vary'),
    text: await response.text(),
  }
}

/** /healthz, polled until it says warn (at most 10 s: the monitor checks every 100 ms here). */
async function healthzOnceWarned(service: RunningService) {
  const deadline = Date.now() + 10_000
  for (;;) {
    const response = await get(`${service.url}/healthz`)
    const body = JSON.parse(response.text)
    expect(response.status).toBe(200)
    if (body.status === 'warn' || Date.now() > deadline) return body
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('health+json (IETF health check response format)', () => {
  it('is what /health sends when asked for application/health+json', async () => {
    const response = await get(`${healthy.url}/health`, 'application/health+json')
    const body = JSON.parse(response.text)

    expect(response.status).toBe(200)
    expect(response.type).toBe('application/health+json')
    expect(response.vary).toBe('Accept')
    expect(body).toMatchObject({
      status: 'pass',
      serviceId: CONTAINER_NAME,
      checks: {
        'postgresql:responseTime': [{ componentType: 'datastore', observedUnit: 'ms', status: 'pass' }],
        'postgresql:connections': [
          { componentType: 'datastore', observedUnit: 'connections', status: 'pass' },
        ],
      },
    })
    expect(body.checks['postgresql:responseTime'][0].observedValue).toBeGreaterThan(0)
    expect(response.text).not.toContain('output') // the draft: omitted on pass
  })

  it('leaves the seed body for other clients, including ones that refuse health+json', async () => {
    for (const accept of [
      undefined,
      'application/json',
      '*/*',
      'application/health+json;q=0, application/json',
      // Quality values decide: this client prefers plain JSON.
      'application/health+json;q=0.9, application/json',
    ]) {
      const response = await get(`${healthy.url}/health`, accept)

      expect(JSON.parse(response.text)).toEqual({ container: CONTAINER_NAME, status: 'Healthy!' })
    }
  })

  it('is always what /healthz sends', async () => {
    const response = await get(`${healthy.url}/healthz`)

    expect(response.type).toBe('application/health+json')
    expect(JSON.parse(response.text).status).toBe('pass')
  })

  it('says warn (still 200) once HEALTH_CHECKS_BEFORE_WARN checks in a row were slower than HEALTH_WARN_LATENCY_MS', async () => {
    const proxy = await startSlowProxy(postgres.app, 15) // every round trip now takes 30 ms or more
    const slow = await start(
      { healthWarnLatencyMs: 10, healthChecksBeforeWarn: 3, healthIntervalMs: 100 },
      { ...postgres.app, port: proxy.port },
    )

    const body = await healthzOnceWarned(slow)
    const slowChecks = slow.monitor.state.checks.page(100).entries.filter((e) => e.value.latencyMs > 10)
    await proxy.close()

    expect(body.status).toBe('warn')
    expect(body.checks['postgresql:responseTime'][0].status).toBe('warn')
    expect(body.checks['postgresql:responseTime'][0].observedValue).toBeGreaterThan(10)
    expect(body.output).toBe('checks slower than 10 ms, 3 checks in a row')
    expect(slowChecks.length).toBeGreaterThanOrEqual(3)
    expect(slow.logs.filter((line) => line.msg === 'database health: warn (slow)')).toHaveLength(1)
  })

  it('says warn when pool use crosses HEALTH_WARN_POOL_PERCENT for HEALTH_CHECKS_BEFORE_WARN checks', async () => {
    const busy = await start({
      healthWarnPoolPercent: 100,
      healthChecksBeforeWarn: 2,
      healthIntervalMs: 100,
      poolMax: 1,
      queryTimeoutMs: 20_000,
    })
    const lock = await lockedTable(postgres.admin)
    const held = slowRequest(busy.url, lock.schema)
    while (busy.db.poolStats().queries.idle > 0 || busy.db.poolStats().queries.total === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }

    const body = await healthzOnceWarned(busy)
    await lock.release()
    await held

    expect(body.status).toBe('warn')
    expect(body.checks['postgresql:connections'][0]).toMatchObject({
      status: 'warn',
      observedValue: 1,
      output: 'query pool 100 % or more in use, 2 checks in a row',
    })
  })

  it('says fail with 503 when the database is down, and hides the reason and versions by default', async () => {
    const down = await start({}, { ...postgres.app, port: await findFreePort() })

    const response = await get(`${down.url}/healthz`)
    const body = JSON.parse(response.text)

    expect(response.status).toBe(503)
    expect(body).toMatchObject({ status: 'fail', output: 'The database is unavailable.' })
    // No response time is observed when no response came, and no check passes while the whole fails.
    expect(body.checks['postgresql:responseTime']).toEqual([
      {
        componentType: 'datastore',
        status: 'fail',
        time: expect.any(String),
        output: 'The database is unavailable.',
      },
    ])
    expect(body.checks['postgresql:connections'][0]).toMatchObject({
      status: 'fail',
      observedUnit: 'connections',
    })
    expect(response.text).not.toMatch(/connection refused|version|releaseId/)
  })

  it('shows the reason and versions when HEALTH_DETAILS is on', async () => {
    const down = await start({ healthDetails: true }, { ...postgres.app, port: await findFreePort() })

    const body = JSON.parse((await get(`${down.url}/healthz`)).text)

    expect(body).toMatchObject({
      status: 'fail',
      output: 'connection refused',
      version: packageVersion.split('.')[0],
      releaseId: packageVersion,
    })
  })
})
