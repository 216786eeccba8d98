import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createStalledResponseCloser } from '../../src/http/stalled-responses.js'
import { connectFrom, loopbackAddress } from '../support/loopback.js'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
const PROXY = loopbackAddress(90, 0)
let service: RunningService

beforeAll(async () => {
  // A share of 2 streams per client (25% of 8); streams live 1.5 s; 127.90.0.1 stands for nginx.
  service = await startService(postgres.app, {
    maxSubscriptions: 8,
    clientSharePercent: 25,
    subscriptionMaxMs: 1500,
    trustedProxies: [PROXY],
  })
})
afterAll(() => service?.close())

interface Stream {
  status: number
  text: () => string
  ended: Promise<number>
  close: () => void
}

/** A healthChanged stream over SSE from `from`, with `forwardedFor` as X-Forwarded-For. */
function subscribe(from: string, forwardedFor?: string): Promise<Stream> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: Number(new URL(service.url).port),
        localAddress: from,
        agent: false,
        path: '/graphql?query=subscription%7BhealthChanged%7Bstatus%7D%7D',
        headers: {
          accept: 'text/event-stream',
          ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
        },
      },
      (res) => {
        let text = ''
        const ended = new Promise<number>((resolveEnd) => {
          res.on('end', () => resolveEnd(performance.now() - started))
          res.on('error', () => resolveEnd(performance.now() - started))
        })
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
        resolve({ status: res.statusCode ?? 0, text: () => text, ended, close: () => req.destroy() })
      },
    )
    req.on('error', reject)
    req.end()
  })
}

describe('live subscriptions per client', () => {
  it('behind a trusted proxy are counted per X-Forwarded-For client; a forged header from anyone else is not', async () => {
    const a = await Promise.all([subscribe(PROXY, '203.0.113.1'), subscribe(PROXY, '203.0.113.1')])
    const aThird = await subscribe(PROXY, '203.0.113.1')
    const b = await subscribe(PROXY, '6.6.6.6, 203.0.113.2')
    const direct = loopbackAddress(91, 0)
    const forged = await Promise.all(['1.1.1.1', '2.2.2.2', '3.3.3.3'].map((ip) => subscribe(direct, ip)))
    for (const stream of [...a, aThird, b, ...forged]) stream.close()

    expect(a.map((stream) => stream.status)).toEqual([200, 200])
    expect(aThird.status).toBe(429)
    expect(b.status).toBe(200)
    expect(forged.map((stream) => stream.status)).toEqual([200, 200, 429])
  })

  it('end after GRAPHQL_SUBSCRIPTION_MAX_MS as a completed subscription, so that clients reconnect', async () => {
    const stream = await subscribe(loopbackAddress(92, 0))
    const endedAfterMs = await stream.ended

    expect(stream.status).toBe(200)
    expect(stream.text()).toContain('"status":"Healthy!"')
    expect(stream.text()).toContain('event: complete')
    expect(endedAfterMs).toBeGreaterThanOrEqual(1400)
  })
})

describe('a response its client does not read', () => {
  it('is closed once over the bound for the stall period, while a reader of the same response is not', async () => {
    const closer = createStalledResponseCloser(64 * 1024, 500)
    const chunk = Buffer.alloc(64 * 1024, 'x')
    const closedAfter = new Map<string, number>()
    const server = createServer((req, res) => {
      const started = performance.now()
      const from = req.socket.remoteAddress ?? '' // a destroyed socket forgets it
      res.once('close', () => closedAfter.set(from, performance.now() - started))
      closer.watch(res)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // A stream that keeps producing, as a busy subscription would: 64 KB every 20 ms, 6 s at most.
      let sent = 0
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer)
        if (sent++ >= 300) {
          clearInterval(timer)
          return void res.end()
        }
        res.write(chunk)
      }, 20)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const silentFrom = loopbackAddress(93, 0)
    const readerFrom = loopbackAddress(93, 1)
    try {
      // Written, then never read: no 'data' listener, so the socket stays paused.
      const silent = await connectFrom(port, silentFrom)
      silent.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
      const reader = await connectFrom(port, readerFrom)
      let read = 0
      reader.on('data', (data: Buffer) => (read += data.length))
      reader.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
      for (let waited = 0; waited < 100 && !closedAfter.has(silentFrom); waited++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const readerClosed = closedAfter.has(readerFrom)
      silent.destroy()
      reader.destroy()

      expect(closedAfter.get(silentFrom)).toBeLessThan(6000)
      expect(readerClosed).toBe(false)
      expect(read).toBeGreaterThan(64 * 1024)
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })
})
