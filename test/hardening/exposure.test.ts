import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let byDefault: RunningService
let allowList: RunningService
let details: RunningService

beforeAll(async () => {
  byDefault = await startService(postgres.app, { monitor: false })
  allowList = await startService(postgres.app, {
    monitor: false,
    corsOrigins: ['https://dashboard.example', 'http://localhost:3000'],
  })
  details = await startService(postgres.app, { monitor: false, healthDetails: true })
})
afterAll(async () => {
  await byDefault?.close()
  await allowList?.close()
  await details?.close()
})

const QUERY = JSON.stringify({ query: '{ health { healthy } }' })

async function fromOrigin(service: RunningService, origin: string) {
  const preflight = await fetch(`${service.url}/graphql`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  })
  const actual = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: QUERY,
  })
  await actual.arrayBuffer()
  return { preflight: preflight.headers, actual: actual.headers }
}

describe('CORS', () => {
  it('is off by default: no origin may read the API from a browser', async () => {
    const { preflight, actual } = await fromOrigin(byDefault, 'https://evil.example')

    for (const headers of [preflight, actual]) {
      expect(headers.get('access-control-allow-origin')).toBeNull()
      expect(headers.get('access-control-allow-credentials')).toBeNull()
    }
  })

  it('with CORS_ORIGINS, allows exactly the listed origins, never with credentials', async () => {
    const listed = await fromOrigin(allowList, 'https://dashboard.example')
    const other = await fromOrigin(allowList, 'https://evil.example')
    const sandboxed = await fromOrigin(allowList, 'null')

    expect(listed.preflight.get('access-control-allow-origin')).toBe('https://dashboard.example')
    expect(listed.actual.get('access-control-allow-origin')).toBe('https://dashboard.example')
    expect(listed.actual.get('vary')).toContain('Origin')
    expect(listed.preflight.get('access-control-allow-methods')).toBe('GET, POST')
    for (const headers of [
      listed.preflight,
      listed.actual,
      other.preflight,
      other.actual,
      sandboxed.actual,
    ]) {
      expect(headers.get('access-control-allow-credentials')).toBeNull()
    }
    for (const headers of [other.preflight, other.actual, sandboxed.preflight, sandboxed.actual]) {
      expect(headers.get('access-control-allow-origin')).toBeNull()
    }
  })
})

describe('database { serverVersion }', () => {
  async function serverVersion(service: RunningService) {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ database { name serverVersion } }' }),
    })
    return (await response.json()).data.database
  }

  it('is null unless HEALTH_DETAILS is on, like the version in health+json', async () => {
    expect(await serverVersion(byDefault)).toEqual({ name: 'postgres', serverVersion: null })
    expect((await serverVersion(details)).serverVersion).toMatch(/^\d+/)
  })
})

describe('/metrics', () => {
  it('names no version (Node\u2019s nodejs_version_info) unless HEALTH_DETAILS is on', async () => {
    const scrape = async (service: RunningService) => (await fetch(`${service.url}/metrics`)).text()

    const [hidden, shown] = await Promise.all([scrape(byDefault), scrape(details)])

    expect(hidden).toContain('process_resident_memory_bytes')
    expect(hidden).not.toContain('nodejs_version_info')
    expect(hidden).not.toContain(process.version)
    expect(shown).toContain(`nodejs_version_info{version="${process.version}"`)
  })
})
