import { Agent, request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { REFUSED_BODY_DRAIN_BYTES } from '../../src/http/graphql-body-limit.js'
import { seedJson } from '../../src/http/respond.js'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let service: RunningService
let port: number

beforeAll(async () => {
  // A long request timeout, so that only the drain limit can end an endless body here.
  service = await startService(postgres.app, { monitor: false, requestTimeoutMs: 600_000 })
  port = Number(new URL(service.url).port)
})
afterAll(async () => {
  await service?.close()
})

const TOO_LARGE = seedJson({
  error: 'Request body larger than 100000 bytes',
  code: 'PAYLOAD_TOO_LARGE',
})

function bodyOf(size: number): string {
  const prefix = '{"query":"{ health { status } }","padding":"'
  return `${prefix}${'x'.repeat(size - prefix.length - 2)}"}`
}

/** Opens a raw connection to the app and collects everything it sends until it closes. */
function rawConnection(): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let received = ''
    const socket = connect(port, '127.0.0.1')
    socket.on('data', (chunk) => (received += chunk.toString('latin1')))
    // Writes after the app closes fail (EPIPE, ECONNRESET); the close itself is what these tests watch.
    socket.on('error', () => undefined)
    const closed = new Promise<void>((done) => socket.on('close', () => done()))
    socket.once('connect', () => resolve({ socket, received: () => received, closed }))
    socket.once('error', reject)
  })
}

describe('refused bodies (the app alone)', () => {
  it('answers 413 to bodies of 150 KB and 500 KB, 30 times each, on one reusable connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const statuses: Record<string, number> = {}
    const bodies = new Set<string>()
    const localPorts = new Set<number>()
    for (const size of [150 * 1024, 500 * 1024]) {
      const body = bodyOf(size)
      for (let attempt = 0; attempt < 30; attempt++) {
        const answer = await new Promise<{ status: string; body: string }>((resolve) => {
          const req = request(
            `${service.url}/graphql`,
            { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
            (res) => {
              localPorts.add(res.socket.localPort ?? 0)
              let text = ''
              res.on('data', (chunk) => (text += chunk))
              res.on('end', () => resolve({ status: String(res.statusCode), body: text }))
            },
          )
          req.on('error', (error: NodeJS.ErrnoException) =>
            resolve({ status: error.code ?? 'error', body: '' }),
          )
          req.end(body)
        })
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1
        bodies.add(answer.body)
      }
    }
    agent.destroy()

    expect(statuses).toEqual({ 413: 60 })
    expect([...bodies]).toEqual([TOO_LARGE])
    // The app read each refused body to its end, so the next request could follow on the same connection.
    expect(localPorts.size).toBe(1)
  })

  it('answers 411 to a small chunked body and serves the next request on the same connection', async () => {
    const { socket, received } = await rawConnection()
    const chunk = '{"query":"{ health { status } }"}'

    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    )
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`)
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    await new Promise<void>((done) => {
      const poll = setInterval(() => {
        if (received().includes('Healthy!')) {
          clearInterval(poll)
          done()
        }
      }, 10)
    })
    socket.destroy()

    expect(received()).toMatch(/^HTTP\/1\.1 411 /)
    expect(received()).toMatch(/HTTP\/1\.1 200 OK[\s\S]*"status":"Healthy!"/)
  })

  it('reads no more than its drain limit of an endless chunked body, then cuts the connection', async () => {
    const { socket, received, closed } = await rawConnection()
    const piece = 'x'.repeat(64 * 1024)
    let sent = 0
    let open = true
    closed.then(() => (open = false))

    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    )
    // Twice the drain limit, never the final chunk: only the app can end this request.
    while (open && sent < 2 * REFUSED_BODY_DRAIN_BYTES) {
      await new Promise<void>((done) =>
        socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`, () => done()),
      )
      sent += piece.length
    }
    await closed

    expect(received()).toMatch(/^HTTP\/1\.1 411 /)
  })

  it('does not read a body that declares more than its drain limit: answers 413 and closes', async () => {
    const { socket, received, closed } = await rawConnection()

    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n{"query":`,
    )
    await closed

    expect(received()).toMatch(/^HTTP\/1\.1 413 /)
    expect(received()).toMatch(/\r\nconnection: close\r\n/i)
    expect(received().endsWith(TOO_LARGE)).toBe(true)
  })
})
