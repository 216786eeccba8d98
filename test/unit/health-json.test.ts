import { describe, expect, it } from 'vitest'
import type { HealthCheck, PoolStats } from '../../src/db/database.js'
import { DampedHealth, NO_DAMPING } from '../../src/health/damped-state.js'
import { NO_POLICY } from '../../src/health/policy.js'
import { HEALTH_JSON, healthJson as healthJsonOf, wantsHealthJson } from '../../src/rest/health-json.js'
import { appOverMemory } from '../support/app-over-memory.js'

const options = { containerName: 'c1', policy: NO_POLICY, details: false, version: '2.3.4' }
const healthy: HealthCheck = {
  healthy: true,
  latencyMs: 3,
  checkedAt: new Date(0),
  reason: null,
  role: 'primary',
  replayLagSeconds: null,
}
const pool = (inUse: number): PoolStats => ({ total: inUse, idle: 0, waiting: 0, max: 10 })
const body = (response: { text?: string }) => JSON.parse(response.text ?? '')

/** health+json for a check that the monitor has judged (warn after `checksBeforeWarn` such checks). */
function healthJson(check: HealthCheck, stats: PoolStats, given: typeof options, checksBeforeWarn = 1) {
  const judged = new DampedHealth({
    ...NO_DAMPING,
    checksBeforeWarn,
    warnLatencyMs: 500,
    warnPoolPercent: 80,
  })
  judged.observe(check, ((stats.total - stats.idle) / stats.max) * 100)
  return healthJsonOf(check, stats, judged, given)
}

describe('healthJson', () => {
  it('passes with 200 when the database answers fast and the pool has room', () => {
    const response = healthJson(healthy, pool(1), options)

    expect(response.status).toBe(200)
    expect(response.headers).toEqual({ 'content-type': HEALTH_JSON })
    expect(body(response)).toMatchObject({ status: 'pass', serviceId: 'c1' })
  })

  it('warns (still 200) on a slow answer or a pool filled to the threshold', () => {
    const slow = healthJson({ ...healthy, latencyMs: 501 }, pool(1), options)
    const full = healthJson(healthy, pool(8), options)

    expect([slow.status, full.status]).toEqual([200, 200])
    expect(body(slow).status).toBe('warn')
    expect(body(slow).checks['postgresql:responseTime'][0].status).toBe('warn')
    expect(body(full).status).toBe('warn')
    expect(body(full).checks['postgresql:connections'][0]).toMatchObject({ status: 'warn', observedValue: 8 })
  })

  it('does not warn for one slow answer when HEALTH_CHECKS_BEFORE_WARN asks for three in a row', () => {
    const slow = healthJson({ ...healthy, latencyMs: 501 }, pool(1), options, 3)

    expect(body(slow).status).toBe('pass')
    expect(body(slow).checks['postgresql:responseTime'][0]).toMatchObject({
      status: 'pass',
      observedValue: 501,
    })
  })

  it('fails with 503 when the database does not answer; the reason only with details on', () => {
    const down: HealthCheck = { ...healthy, healthy: false, reason: 'connection refused' }

    const plain = healthJson(down, pool(0), options)
    const detailed = healthJson(down, pool(0), { ...options, details: true })

    expect(plain.status).toBe(503)
    expect(body(plain).status).toBe('fail')
    expect(plain.text).not.toMatch(/connection refused|version|releaseId|output/)
    expect(body(detailed)).toMatchObject({ output: 'connection refused', version: '2', releaseId: '2.3.4' })
  })
})

describe('wantsHealthJson', () => {
  it.each([
    ['application/health+json', true],
    ['application/json, application/health+json;q=0.5', true],
    ['APPLICATION/HEALTH+JSON', true],
    ['application/health+json;q=0, application/json', false],
    ['application/health+json; q=0.000', false],
    ['*/*', false],
    [undefined, false],
  ])('%s -> %s', (accept, wanted) => {
    expect(wantsHealthJson(accept)).toBe(wanted)
  })
})

describe('GET /health content negotiation and /healthz', () => {
  it('sends health+json to clients that ask, the seed body to the rest, and Vary: Accept to both', async () => {
    const app = appOverMemory()

    const asked = await app.request({ url: '/health', headers: { accept: HEALTH_JSON } })
    const seed = await app.request('/health')
    const healthz = await app.request('/healthz')

    expect(asked.headers['content-type']).toBe(HEALTH_JSON)
    expect(asked.json()).toMatchObject({ status: 'pass' })
    expect(seed.json()).toMatchObject({ status: 'Healthy!' })
    expect([asked.headers.vary, seed.headers.vary]).toEqual(['Accept', 'Accept'])
    expect(healthz.headers['content-type']).toBe(HEALTH_JSON)
  })

  it('answers /healthz 503 fail when the database is down', async () => {
    const app = appOverMemory()
    app.db.setUnreachable('timeout')

    const response = await app.request('/healthz')

    expect(response.statusCode).toBe(503)
    expect(response.json()).toMatchObject({ status: 'fail' })
  })
})
