import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

// Yoga does not count body bytes here (maxRequestBodySize: false in src/graphql/yoga.ts): the HTTP layer's rule, a declared
// Content-Length within GRAPHQL_MAX_BODY_BYTES, is the only one. These requests try to get more past it.
const postgres = inject('postgres')
const LIMIT = 2000
let service: RunningService
let port: number

beforeAll(async () => {
  service = await startService(postgres.app, { monitor: false, maxBodyBytes: LIMIT })
  port = Number(new URL(service.url).port)
})
afterAll(() => service?.close())

/** Writes raw bytes on a new connection; resolves with everything the app sent before it closed. */
function exchange(raw: string, waitMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    let received = ''
    const socket = connect(port, '127.0.0.1')
    socket.on('data', (chunk) => (received += chunk.toString('latin1')))
    socket.on('error', () => undefined)
    const timer = setTimeout(() => socket.destroy(), waitMs)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(received)
    })
    socket.write(raw)
  })
}

const statuses = (answer: string) =>
  [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((match) => Number(match[1]))

function post(headers: string, body: string): string {
  return `POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n${headers}\r\n${body}`
}

describe('the body limit without yoga’s own count', () => {
  it('reads only the declared length: a larger body behind a small Content-Length never reaches GraphQL', async () => {
    const query = '{"query":"{ health { status } }"}'
    const smuggled = `${query}${'{"query":"{ health { status } }"}'.repeat(200)}`

    const answer = await exchange(post(`Content-Length: ${query.length}\r\n`, smuggled))

    // Node's parser takes the declared bytes as one request and refuses the rest as a malformed next
    // request (a bare 400, connection closed). Had anything read past the declared length, the longer
    // document would have reached GraphQL as invalid JSON, answered with a JSON error.
    expect(statuses(answer).at(-1)).toBe(400)
    expect(answer).toContain('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    expect(answer).not.toContain('"errors"')
  })

  it.each([
    ['twice, differing', 'Content-Length: 30\r\nContent-Length: 40000\r\n'],
    ['as a list', 'Content-Length: 30, 40000\r\n'],
    ['negative', 'Content-Length: -1\r\n'],
    ['not a number', 'Content-Length: 1e9\r\n'],
    ['beside chunked', 'Content-Length: 30\r\nTransfer-Encoding: chunked\r\n'],
  ])('refuses a Content-Length %s with 400 before any GraphQL', async (_kind, headers) => {
    const answer = await exchange(post(headers, '{"query":"{ health { status } }"}'))

    expect(statuses(answer)).toEqual([400])
    expect(answer).not.toContain('Healthy!')
  })

  it('takes a body of exactly the limit and refuses one byte more with 413', async () => {
    const bodyOf = (size: number) => {
      const prefix = '{"query":"{ health { status } }","extensions":{"pad":"'
      return `${prefix}${'x'.repeat(size - prefix.length - 3)}"}}`
    }
    const atLimit = bodyOf(LIMIT)
    const overLimit = bodyOf(LIMIT + 1)

    const accepted = await exchange(post(`Content-Length: ${atLimit.length}\r\n`, atLimit))
    const refused = await exchange(post(`Content-Length: ${overLimit.length}\r\n`, overLimit))

    expect(atLimit.length).toBe(LIMIT)
    expect(statuses(accepted)).toEqual([200])
    expect(statuses(refused)).toEqual([413])
  })
})
