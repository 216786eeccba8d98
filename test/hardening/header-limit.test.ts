import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let service: RunningService
let port: number

beforeAll(async () => {
  service = await startService(postgres.app, { monitor: false })
  port = Number(new URL(service.url).port)
})
afterAll(() => service?.close())

/** Sends `head` whole (as curl does, before reading) and returns what came back, or how it ended. */
function sendHead(head: string): Promise<{ answer: string; error?: string }> {
  return new Promise((resolve) => {
    let answer = ''
    let error: string | undefined
    const socket = connect(port, '127.0.0.1', () => socket.write(head))
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')))
    socket.on('error', (failure: NodeJS.ErrnoException) => (error = failure.code))
    socket.on('close', () => resolve({ answer, error }))
  })
}

describe('request headers over the 16 KB limit', () => {
  for (const kilobytes of [20, 64, 256]) {
    it(`answer 431 to a ${kilobytes} KB header, not a connection reset`, async () => {
      const head = `GET /health HTTP/1.1\r\nHost: x\r\nX-Junk: ${'x'.repeat(kilobytes * 1024)}\r\n\r\n`
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => sendHead(head)))

      for (const outcome of outcomes) {
        expect(outcome.answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
        expect(outcome.answer).toContain('Connection: close')
        expect(outcome.error).toBeUndefined()
      }
    })
  }

  it('still answer ordinary requests after', async () => {
    const response = await fetch(`${service.url}/livez`)
    expect(response.status).toBe(200)
  })
})
