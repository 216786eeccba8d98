import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestPostgres } from '../support/postgres.js'
import { type RunningService, startServiceOnOwnPostgres } from '../support/service.js'

let postgres: TestPostgres
let service: RunningService
let close: () => Promise<void>

beforeAll(async () => {
  ;({ postgres, service, close } = await startServiceOnOwnPostgres({ healthIntervalMs: 200 }))
})
afterAll(() => close?.())

/** Reads a GraphQL-over-SSE response event by event. */
function sseEvents(response: Response) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  return async function next(timeoutMs = 10_000): Promise<{ event: string; data: unknown } | undefined> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const boundary = buffer.indexOf('\n\n')
      if (boundary !== -1) {
        const block = buffer.slice(0, boundary)
        buffer = buffer.slice(boundary + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event) return { event, data: data ? JSON.parse(data) : undefined }
        continue // a keep-alive comment
      }
      const chunk = await reader.read()
      if (chunk.done) return undefined
      buffer += decoder.decode(chunk.value, { stream: true })
    }
    throw new Error('no event in time')
  }
}

describe('subscription healthChanged over Server-Sent Events', () => {
  it('sends the current report, then each transition, and ends when the service stops', async () => {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { healthChanged { healthy status container reason } }' }),
    })
    const next = sseEvents(response)

    const current = await next()
    await postgres.server.stop()
    const down = await next()
    await postgres.server.start()
    const up = await next()
    const stopping = service.stop('test')
    const last = await next()
    await stopping

    expect(response.headers.get('content-type')).toContain('text/event-stream')
    expect(current).toEqual({
      event: 'next',
      data: {
        data: {
          healthChanged: { healthy: true, status: 'Healthy!', container: 'ctera-app-test', reason: null },
        },
      },
    })
    expect(down?.data).toMatchObject({ data: { healthChanged: { healthy: false, status: 'Unhealthy' } } })
    expect(up?.data).toMatchObject({ data: { healthChanged: { healthy: true, status: 'Healthy!' } } })
    expect(last?.event).toBe('complete')
  })
})
