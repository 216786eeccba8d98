import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let service: RunningService
let port: number
const HEADERS_TIMEOUT_MS = 600
const REQUEST_TIMEOUT_MS = 1200

beforeAll(async () => {
  service = await startService(postgres.app, {
    monitor: false,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: 500,
  })
  port = Number(new URL(service.url).port)
})
afterAll(() => service.close())

/** Opens a connection, lets `behave` drive it, and reports how it ended and when. */
function slowClient(behave: (socket: Socket) => void): Promise<{ ms: number; answer: string }> {
  return new Promise((resolve) => {
    const started = performance.now()
    let answer = ''
    const socket = connect(port, '127.0.0.1', () => behave(socket))
    socket.on('data', (chunk) => (answer += chunk.toString()))
    socket.on('error', () => {})
    socket.on('close', () => resolve({ ms: performance.now() - started, answer }))
  })
}

const trickle = (socket: Socket, text: string, everyMs: number) => {
  let index = 0
  const timer = setInterval(() => {
    if (socket.destroyed || index >= text.length) return clearInterval(timer)
    socket.write(text[index++] ?? '')
  }, everyMs)
  socket.on('close', () => clearInterval(timer))
}

describe('slow clients (slowloris) are bounded by server timeouts', () => {
  it('closes 20 connections that never send a byte, within the headers timeout', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => slowClient(() => {})))
    const slowest = Math.max(...results.map((result) => result.ms))
    console.log(`slow clients: 20 silent connections closed after ${Math.round(slowest)} ms at most`)

    expect(slowest).toBeLessThan(HEADERS_TIMEOUT_MS + 1500)
  })

  it('answers 408 to clients trickling their headers one byte at a time', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        slowClient((socket) =>
          trickle(socket, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: 1234567890\r\n\r\n', 100),
        ),
      ),
    )
    console.log(
      `slow clients: 10 header tricklers cut after ${Math.round(Math.max(...results.map((r) => r.ms)))} ms at most`,
    )

    for (const result of results) {
      expect(result.answer).toMatch(/^HTTP\/1\.1 408/)
      expect(result.ms).toBeLessThan(HEADERS_TIMEOUT_MS + 1500)
    }
  })

  it('cuts clients trickling a body once the request timeout is up', async () => {
    const body = '{"query":"{ health { status } }"}'
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        slowClient((socket) => {
          socket.write(
            `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
          )
          trickle(socket, body, 150)
        }),
      ),
    )
    console.log(
      `slow clients: 10 body tricklers cut after ${Math.round(Math.max(...results.map((r) => r.ms)))} ms at most`,
    )

    for (const result of results) {
      expect(result.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 1500)
      expect(result.answer).not.toContain('Healthy!')
    }
  })

  it('still serves ordinary clients while slow ones hang on', async () => {
    const hanging = Array.from({ length: 50 }, () => slowClient(() => {}))

    const response = await fetch(`${service.url}/health`)

    expect(response.status, await response.clone().text()).toBe(200)
    await Promise.all(hanging)
  })
})
