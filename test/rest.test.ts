import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { withClient } from './support/postgres.js'
import { CONTAINER_NAME, type RunningService, startService } from './support/service.js'

const postgres = inject('postgres')
let service: RunningService

beforeAll(async () => {
  service = await startService(postgres.app)
})
afterAll(() => service.close())

describe('GET /health (the seed contract)', () => {
  it('answers 200 with the seed body when the database is reachable', async () => {
    const response = await fetch(`${service.url}/health`)

    expect(response.status).toBe(200)
    expect(await response.text()).toBe(`{"container":"${CONTAINER_NAME}","status":"Healthy!"}\n`)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('ignores a query string', async () => {
    const response = await fetch(`${service.url}/health?verbose=1`)

    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ container: CONTAINER_NAME, status: 'Healthy!' })
  })

  it('answers HEAD with the same status and headers and no body', async () => {
    const response = await fetch(`${service.url}/health`, { method: 'HEAD' })

    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(await response.text()).toBe('')
  })

  it("is ours, not yoga's built-in check, even on paths that end in /health", async () => {
    const nested = await fetch(`${service.url}/graphql/health`)
    const other = await fetch(`${service.url}/anything/health`)

    expect(nested.status).toBe(404)
    expect(other.status).toBe(404)
    expect(nested.headers.get('x-yoga-id')).toBeNull()
  })
})

describe('GET /number_of_tables (the seed contract)', () => {
  it('answers the count of information_schema.tables as the service user sees it, as a string', async () => {
    const expected = await withClient(postgres.app, async (client) => {
      const result = await client.query('SELECT count(*) FROM information_schema.tables')
      return String(result.rows[0].count)
    })

    const response = await fetch(`${service.url}/number_of_tables`)

    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.text()).toBe(`{"number_of_tables":"${expected}"}\n`)
    expect(Number(expected)).toBeGreaterThan(100)
  })

  it('answers HEAD without a body', async () => {
    const response = await fetch(`${service.url}/number_of_tables`, { method: 'HEAD' })

    expect(response.status).toBe(200)
    expect(await response.text()).toBe('')
  })
})

describe('routing', () => {
  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])(
    'answers %s on a REST path with 405 and Allow',
    async (method) => {
      for (const path of ['/health', '/number_of_tables']) {
        const response = await fetch(`${service.url}${path}`, { method })

        expect(response.status).toBe(405)
        expect(response.headers.get('allow')).toBe('OPTIONS, HEAD, GET')
        expect(await response.json()).toEqual({ error: 'Method Not Allowed', code: 'METHOD_NOT_ALLOWED' })
      }
    },
  )

  it('spells the Allow header one way (allow) on every route that sends it', async () => {
    const requests = [
      'OPTIONS /health',
      'DELETE /number_of_tables',
      'OPTIONS /graphql',
      'PUT /graphql',
      'POST /graphiql/graphiql.css',
      'CONNECT 127.0.0.1:1',
    ]

    const names = await Promise.all(requests.map((line) => allowHeaderNames(line)))

    expect(names).toEqual(requests.map(() => ['allow']))
  })

  it.each(['/', '/wrong_route', '/health/', '/HEALTH', '/number_of_tables/x', '/graphiql'])(
    'answers an unknown path (%s) with a JSON 404',
    async (path) => {
      const response = await fetch(`${service.url}${path}`)

      expect(response.status).toBe(404)
      expect(response.headers.get('content-type')).toBe('application/json')
      expect(await response.json()).toEqual({ error: 'Not Found', code: 'NOT_FOUND' })
    },
  )

  it('answers HEAD on an unknown path with 404 and no body', async () => {
    const response = await fetch(`${service.url}/wrong_route`, { method: 'HEAD' })

    expect(response.status).toBe(404)
    expect(await response.text()).toBe('')
  })
})

describe('secrets', () => {
  it('no response or log line carries the password', async () => {
    const paths = ['/health', '/number_of_tables', '/wrong_route', '/graphql?query={health{reason}}']
    const bodies = await Promise.all(paths.map(async (path) => (await fetch(`${service.url}${path}`)).text()))
    const introspection = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __schema { types { name description } } }' }),
    })

    const everything = [...bodies, await introspection.text(), ...service.rawLogs].join('\n')

    expect(bodies[0]).toContain('Healthy!')
    expect(service.rawLogs.length).toBeGreaterThan(0)
    expect(everything).not.toContain(postgres.app.password)
  })
})

/** The raw names of the header lines that spell allow in any case, as they come over the socket. */
function allowHeaderNames(requestLine: string): Promise<string[]> {
  const { hostname, port } = new URL(service.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.end(
        `${requestLine} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`,
      )
    })
    let answer = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      answer += chunk
    })
    socket.on('error', reject)
    socket.on('close', () => {
      const head = answer.split('\r\n\r\n')[0] ?? ''
      resolve(head.split('\r\n').flatMap((line) => (/^allow:/i.test(line) ? [line.slice(0, 5)] : [])))
    })
  })
}
