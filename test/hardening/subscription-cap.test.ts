import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

const CAP = 40
const postgres = inject('postgres')
let service: RunningService
const warnings: Error[] = []
const onWarning = (warning: Error) => warnings.push(warning)

beforeAll(async () => {
  // Fewer requests in flight than streams: an open stream must not hold its in-flight slot. Every stream
  // comes from 127.0.0.1, so no per-client share here: test/faults/client-budgets.test.ts tests those.
  // A long health timeout: on a busy machine a 2 s check can fail, and the streams' first event would say so.
  service = await startService(postgres.app, {
    maxSubscriptions: CAP,
    maxInFlight: 5,
    clientSharePercent: 100,
    healthTimeoutMs: 20_000,
  })
  process.on('warning', onWarning)
})
afterAll(async () => {
  process.off('warning', onWarning)
  await service?.close()
})

async function subscribe(signal: AbortSignal) {
  const response = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: 'subscription { healthChanged { healthy } }' }),
    signal,
  })
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  let text = ''
  // Past the keep-alive comment (`:`) that opens the stream, to the first event.
  while (!/event: .*\ndata: .*\n\n/.test(text)) {
    const chunk = await reader.read()
    if (chunk.done) break
    text += new TextDecoder().decode(chunk.value)
  }
  return { status: response.status, first: text }
}

describe('live subscriptions (SSE)', () => {
  it(`serve up to GRAPHQL_MAX_SUBSCRIPTIONS (${CAP} here) with no warning, and refuse the next one clearly`, async () => {
    const streams = new AbortController()
    // Five at a time (maxInFlight): each five open their streams, and so give their slots back, before the
    // next. All at once would race the in-flight limit, which a busy machine can lose.
    const open: Array<Awaited<ReturnType<typeof subscribe>>> = []
    while (open.length < CAP) {
      const batch = Math.min(5, CAP - open.length)
      open.push(...(await Promise.all(Array.from({ length: batch }, () => subscribe(streams.signal)))))
    }
    const refused = await subscribe(new AbortController().signal)
    streams.abort()
    // The service frees a slot once it sees the stream's connection close: wait for that, however long.
    const afterClose = await vi.waitUntil(
      async () => {
        const again = new AbortController()
        const attempt = await subscribe(again.signal)
        again.abort()
        return attempt.status === 200 ? attempt : undefined
      },
      { timeout: 60_000, interval: 100 },
    )

    expect(open.map((stream) => stream.status)).toEqual(Array(CAP).fill(200))
    expect(open.filter((stream) => !stream.first.includes('"healthy":true'))).toEqual([])
    expect(refused.status).toBe(503)
    expect(refused.first).toContain('TOO_MANY_SUBSCRIPTIONS')
    expect(refused.first).toContain('Too many live subscriptions')
    expect(afterClose.first).toContain('"healthy":true')
    expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning')
  }, 120_000)
})
