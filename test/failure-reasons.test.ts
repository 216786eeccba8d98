import { afterAll, describe, expect, inject, it } from 'vitest'
import type { ConnectionSettings } from '../src/config/database-target.js'
import { findFreePort } from '../src/net/free-port.js'
import { type RunningService, startService } from './support/service.js'

const postgres = inject('postgres')
const services: RunningService[] = []
afterAll(() => Promise.all(services.map((service) => service.close())))

async function healthOf(settings: ConnectionSettings, options = {}) {
  const service = await startService(settings, options)
  services.push(service)
  const response = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ health { healthy status reason } }' }),
  })
  return { service, body: JSON.stringify(await response.json()) }
}

describe('unhealthy reasons are short and fixed, never driver text', () => {
  it('says "authentication failed" for a wrong password', async () => {
    const { service, body } = await healthOf({ ...postgres.app, password: 'wrong-password' })

    expect(JSON.parse(body).data.health).toEqual({
      healthy: false,
      status: 'Unhealthy',
      reason: 'authentication failed',
    })
    expect(body).not.toContain('ctera')
    expect(service.rawLogs.join('\n')).not.toContain('wrong-password')
  })

  it('says "database does not exist" for a missing database', async () => {
    const { body } = await healthOf({ ...postgres.app, database: 'no_such_database' })

    expect(JSON.parse(body).data.health.reason).toBe('database does not exist')
    expect(body).not.toContain('no_such_database')
  })

  it('says "connection refused" when nothing listens on the port', async () => {
    const { body } = await healthOf({ ...postgres.app, port: await findFreePort() })

    expect(JSON.parse(body).data.health.reason).toBe('connection refused')
    expect(body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/)
  })

  it('says "host not found" for a host name that does not resolve', async () => {
    const { body } = await healthOf({ ...postgres.app, host: 'no-such-host.invalid' })

    expect(JSON.parse(body).data.health.reason).toBe('host not found')
  })
})

describe('the health result cache', () => {
  it('is off by default: two checks are two probes', async () => {
    const service = await startService(postgres.app)
    services.push(service)
    const query = { query: '{ health { checkedAt } }' }
    const ask = async () =>
      (
        await (
          await fetch(`${service.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(query),
          })
        ).json()
      ).data.health.checkedAt

    const first = await ask()
    await new Promise((resolve) => setTimeout(resolve, 10))

    expect(await ask()).not.toBe(first)
  })

  it('reuses a report younger than HEALTH_CACHE_MS when turned on', async () => {
    const service = await startService(postgres.app, { healthCacheMs: 60_000 })
    services.push(service)
    const ask = async () =>
      (
        await (
          await fetch(`${service.url}/graphql?query=${encodeURIComponent('{ health { checkedAt } }')}`)
        ).json()
      ).data.health.checkedAt

    const first = await ask()
    await new Promise((resolve) => setTimeout(resolve, 10))

    expect(await ask()).toBe(first)
  })
})
