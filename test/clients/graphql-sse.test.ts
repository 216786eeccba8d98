import { createClient, NetworkError } from 'graphql-sse'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

// graphql-sse's own client. Its default, distinct connections mode (one event stream per operation)
// is yoga's SSE; single connection mode (PUT to reserve a stream, DELETE to cancel) is not offered and
// must say so (docs/operations.md: why).
let service: RunningService

beforeAll(async () => {
  service = await startService(inject('postgres').app)
})
afterAll(() => service?.close())

const HEALTH_CHANGED = { query: 'subscription { healthChanged { healthy status } }' }

describe('graphql-sse client', () => {
  it('distinct connections mode (the default): receives healthChanged, and a query result', async () => {
    const client = createClient({ url: `${service.url}/graphql`, retryAttempts: 0 })

    const subscription = client.iterate(HEALTH_CHANGED)
    const first = await subscription.next()
    await subscription.return?.()
    const query = client.iterate({ query: '{ numberOfTables }' })
    const tables = await query.next()
    const end = await query.next()
    client.dispose()

    expect(first.value).toEqual({ data: { healthChanged: { healthy: true, status: 'Healthy!' } } })
    expect(tables.value).toEqual({ data: { numberOfTables: expect.any(Number) } })
    expect(end.done).toBe(true)
  })

  it('single connection mode: refused with 405 and a body that says what to use instead', async () => {
    const client = createClient({ url: `${service.url}/graphql`, singleConnection: true, retryAttempts: 0 })

    const error = await client
      .iterate(HEALTH_CHANGED)
      .next()
      .then(
        () => undefined,
        (reason: unknown) => reason,
      )
    client.dispose()

    // The client aborts the request once it fails, so its body is read from the same request sent again.
    const again = await fetch(`${service.url}/graphql`, { method: 'PUT' })
    const body = await again.json()

    expect(error).toBeInstanceOf(NetworkError)
    expect((error as Error).message).toBe('Server responded with 405: Method Not Allowed')
    expect((error as NetworkError<Response>).response?.headers.get('allow')).toBe('GET, POST')
    expect(again.status).toBe(405)
    expect(body.errors[0].extensions).toEqual({ code: 'METHOD_NOT_ALLOWED' })
    expect(body.errors[0].message).toMatch(/single connection mode.*distinct connections mode/)
  })
})
