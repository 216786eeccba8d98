import { describe, expect, it } from 'vitest'
import type { HealthCheck, PoolStats } from '../../src/db/database.js'
import { DampedHealth, NO_DAMPING } from '../../src/health/damping.js'
import { NO_POLICY } from '../../src/health/policy.js'
import { HEALTH_JSON, healthJson as healthJsonOf, wantsHealthJson } from '../../src/rest/health-json.js'
import { appOverMemory } from '../support/app-over-memory.js'

const options = {
  containerName: 'c1',
  policy: NO_POLICY,
  warn: { latencyMs: 500, poolPercent: 80, checksInARow: 1 },
  details: false,
  version: '2.3.4',
}
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
    warnLatencyMs: given.warn.latencyMs,
    warnPoolPercent: given.warn.poolPercent,
  })
  const checks = Array.from({ length: checksBeforeWarn }, () => ({ ...check }))
  for (const each of checks) judged.observe(each, ((stats.total - stats.idle) / stats.max) * 100)
  return healthJsonOf(checks.at(-1) ?? check, stats, judged, {
    ...given,
    warn: { ...given.warn, checksInARow: checksBeforeWarn },
  })
}

describe('healthJson', () => {
  it('passes with 200 when the database answers fast and the pool has room, with no output anywhere', () => {
    const response = healthJson(healthy, pool(1), options)

    expect(response.status).toBe(200)
    expect(response.headers).toEqual({ 'content-type': HEALTH_JSON })
    expect(body(response)).toMatchObject({ status: 'pass', serviceId: 'c1' })
    // draft-inadarei-api-health-check: output "SHOULD be omitted for pass".
    expect(response.text).not.toContain('output')
  })

  it('warns (still 200) on a slow answer or a pool filled to the threshold, and says why', () => {
    const slow = healthJson({ ...healthy, latencyMs: 501 }, pool(1), options)
    const full = healthJson(healthy, pool(8), options)

    expect([slow.status, full.status]).toEqual([200, 200])
    expect(body(slow)).toMatchObject({ status: 'warn', output: 'checks slower than 500 ms' })
    expect(body(slow).checks['postgresql:responseTime'][0]).toMatchObject({
      status: 'warn',
      observedValue: 501,
      output: 'checks slower than 500 ms',
    })
    expect(body(slow).checks['postgresql:connections'][0]).not.toHaveProperty('output')
    expect(body(full)).toMatchObject({ status: 'warn', output: 'query pool 80 % or more in use' })
    expect(body(full).checks['postgresql:connections'][0]).toMatchObject({
      status: 'warn',
      observedValue: 8,
      output: 'query pool 80 % or more in use',
    })
  })

  it('does not warn for one slow answer when HEALTH_CHECKS_BEFORE_WARN asks for three in a row', () => {
    const judged = new DampedHealth({ ...NO_DAMPING, checksBeforeWarn: 3 })
    const slowCheck = { ...healthy, latencyMs: 501 }
    judged.observe(slowCheck, 10)
    const threeInARow = { ...options, warn: { ...options.warn, checksInARow: 3 } }

    const once = healthJsonOf(slowCheck, pool(1), judged, threeInARow)
    const thrice = healthJson(slowCheck, pool(1), threeInARow, 3)

    expect(body(once).status).toBe('pass')
    expect(body(once).checks['postgresql:responseTime'][0]).toMatchObject({
      status: 'pass',
      observedValue: 501,
    })
    expect(body(thrice)).toMatchObject({
      status: 'warn',
      output: 'checks slower than 500 ms, 3 checks in a row',
    })
  })

  it("warns with the reason when the server's role breaks the readiness policy", () => {
    const standby: HealthCheck = { ...healthy, role: 'standby', replayLagSeconds: 12 }

    const notPrimary = body(
      healthJson(standby, pool(1), { ...options, policy: { ...NO_POLICY, requirePrimary: true } }),
    )
    const lagging = body(
      healthJson(standby, pool(1), { ...options, policy: { ...NO_POLICY, maxReplayLagMs: 5000 } }),
    )

    expect(notPrimary).toMatchObject({
      status: 'warn',
      output: 'a standby, and HEALTH_REQUIRE_PRIMARY asks for the primary',
    })
    expect(notPrimary.checks['postgresql:role'][0]).toMatchObject({
      status: 'warn',
      observedValue: 'standby',
    })
    expect(lagging.checks['postgresql:replayLag'][0]).toMatchObject({
      status: 'warn',
      observedValue: 12,
      output: 'replay lag over HEALTH_MAX_REPLAY_LAG_MS (5000 ms)',
    })
    expect(lagging.checks['postgresql:role'][0]).not.toHaveProperty('output')
  })

  it('fails with 503 when the database does not answer: no response time, every check fails', () => {
    const down: HealthCheck = { ...healthy, healthy: false, latencyMs: 2000, reason: 'timeout', role: null }

    const response = healthJson(down, pool(0), options)
    const { checks, ...top } = body(response)

    expect(response.status).toBe(503)
    expect(top).toMatchObject({ status: 'fail', output: 'The database is unavailable.' })
    // The 2,000 ms it took to give up is not the database's response time.
    expect(checks['postgresql:responseTime']).toEqual([
      {
        componentType: 'datastore',
        status: 'fail',
        time: '1970-01-01T00:00:00.000Z',
        output: 'The database is unavailable.',
      },
    ])
    expect(checks['postgresql:connections'][0]).toMatchObject({ status: 'fail', observedValue: 0 })
    expect(response.text).not.toMatch(/timeout|version|releaseId|2000/)
  })

  it('names the reason, and the versions, only with details on', () => {
    const down: HealthCheck = { ...healthy, healthy: false, reason: 'connection refused', role: null }

    const detailed = body(healthJson(down, pool(0), { ...options, details: true }))

    expect(detailed).toMatchObject({ output: 'connection refused', version: '2', releaseId: '2.3.4' })
    expect(detailed.checks['postgresql:responseTime'][0].output).toBe('connection refused')
  })
})

describe('wantsHealthJson', () => {
  it.each([
    ['application/health+json', true],
    ['APPLICATION/HEALTH+JSON', true],
    ['application/json;q=0.5, application/health+json', true],
    ['application/health+json, */*', true], // a tie goes to the type the client named
    ['application/health+json;q=0.9, application/*;q=0.8', true],
    ['application/json;q=0.8, application/*, application/health+json;q=0.9', true], // json's own range decides
    ['application/health+json;q=0.9, application/json', false], // quality values are honoured
    ['application/json, application/health+json;q=0.5', false],
    ['application/health+json;q=0.5, */*', false],
    ['application/health+json;q=0, application/json', false],
    ['application/health+json; q=0.000', false],
    ['application/health+json;q=abc', false],
    ['*/*', false],
    ['application/*', false],
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
