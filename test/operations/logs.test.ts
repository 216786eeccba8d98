import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let service: RunningService

beforeAll(async () => {
  service = await startService(postgres.app, { monitor: false })
})
afterAll(() => service.close())

const requestLines = () => service.logs.filter((line) => line.msg === 'request')

describe('request logs and request ids', () => {
  it('echoes a sane x-request-id and logs one JSON line for the request with it', async () => {
    const response = await fetch(`${service.url}/health`, { headers: { 'x-request-id': 'probe-42' } })
    await response.text()
    await new Promise((resolve) => setTimeout(resolve, 20))

    const line = requestLines().find((entry) => entry.requestId === 'probe-42')
    expect(response.headers.get('x-request-id')).toBe('probe-42')
    expect(line).toMatchObject({
      level: 30,
      method: 'GET',
      route: '/health',
      status: 200,
      service: 'ctera-app',
    })
    expect(line?.durationMs).toBeGreaterThan(0)
    expect(line?.time).toMatch(/^\d{4}-\d\d-\d\dT/)
  })

  it('generates an id when none (or a hostile one) is given', async () => {
    const plain = await fetch(`${service.url}/number_of_tables`)
    const hostile = await fetch(`${service.url}/number_of_tables`, {
      headers: { 'x-request-id': `a b"\u00e9${'x'.repeat(200)}` },
    })

    expect(plain.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('logs GraphQL requests, 404s and 405s with a bounded route label', async () => {
    await (await fetch(`${service.url}/graphql?query=${encodeURIComponent('{ health { status } }')}`)).text()
    await (await fetch(`${service.url}/no/such/path?secret=1`)).text()
    await (await fetch(`${service.url}/health`, { method: 'DELETE' })).text()
    await new Promise((resolve) => setTimeout(resolve, 20))

    const lines = requestLines()
    expect(lines).toContainEqual(expect.objectContaining({ route: '/graphql', status: 200, method: 'GET' }))
    expect(lines).toContainEqual(expect.objectContaining({ route: 'unmatched', status: 404 }))
    expect(lines).toContainEqual(expect.objectContaining({ route: '/health', status: 405, method: 'DELETE' }))
    expect(service.rawLogs.join('\n')).not.toContain('/no/such/path')
  })

  it('logs probe routes at debug level, so LOG_LEVEL=info keeps them out', async () => {
    await (await fetch(`${service.url}/livez`)).text()
    await new Promise((resolve) => setTimeout(resolve, 20))

    const probe = requestLines().find((line) => line.route === '/livez')
    expect(probe?.level).toBe(20)
  })

  it('never logs the password', () => {
    expect(service.rawLogs.length).toBeGreaterThan(3)
    expect(service.rawLogs.join('\n')).not.toContain(postgres.app.password)
  })
})
