import { request } from 'node:https'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { seedJson } from '../../src/http/respond.js'
import { type Certificates, makeCertificates } from '../support/certificates.js'
import { type RunningNginx, startNginx } from '../support/nginx.js'
import { opensslHandshake } from '../support/openssl-handshake.js'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let service: RunningService
let certificates: Certificates
let nginx: RunningNginx

beforeAll(async () => {
  certificates = makeCertificates()
  service = await startService(postgres.app)
  nginx = await startNginx(Number(new URL(service.url).port), certificates)
}, 60_000)
afterAll(async () => {
  nginx?.stop()
  await service?.close()
})

interface Answer {
  /** The HTTP status, or the error code when no answer came (ECONNRESET...). */
  status?: number | string
  headers: Record<string, string | string[] | undefined>
  body: string
}

function viaNginx(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; port?: number } = {},
): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = request(
      {
        host: 'localhost',
        port: options.port ?? nginx.httpsPort,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: certificates.ca,
      },
      (res) => {
        let body = ''
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => done({ status: res.statusCode, headers: res.headers, body }))
      },
    )
    req.on('error', fail)
    req.end(options.body)
  })
}

/** POSTs bodies of each size `times` times over HTTP/1.1, one after another; tallies what came back. */
async function postBodiesOfSizes(port: number, sizes: number[], times: number) {
  const statuses: Record<string, number> = {}
  const bodies = new Set<string>()
  const contentTypes = new Set<string>()
  for (const size of sizes) {
    const prefix = '{"query":"{ health { status } }","padding":"'
    const body = `${prefix}${'x'.repeat(size - prefix.length - 2)}"}`
    for (let attempt = 0; attempt < times; attempt++) {
      const answer = await viaNginx('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        port,
      }).catch((error: NodeJS.ErrnoException): Answer => ({ status: error.code, body: '', headers: {} }))
      statuses[String(answer.status)] = (statuses[String(answer.status)] ?? 0) + 1
      bodies.add(answer.body)
      contentTypes.add(String(answer.headers['content-type']).split(';')[0] ?? '')
    }
  }
  return { statuses, bodies: [...bodies], contentTypes: [...contentTypes] }
}

describe('the reverse proxy (deploy/nginx/ctera-app.conf on real nginx)', () => {
  it('terminates TLS and passes the seed contract through', async () => {
    const health = await viaNginx('/health')
    const tables = await viaNginx('/number_of_tables')

    expect(health.status).toBe(200)
    expect(health.body).toBe('{"container":"ctera-app-test","status":"Healthy!"}\n')
    expect(tables.body).toMatch(/^\{"number_of_tables":"\d+"\}\n$/)
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000')
    expect(String(health.headers.server)).toBe('nginx')
  })

  it("forwards the caller's x-request-id, or one of its own, to the app", async () => {
    const given = await viaNginx('/health', { headers: { 'x-request-id': 'via-nginx-1' } })
    const made = await viaNginx('/health')
    await new Promise((wait) => setTimeout(wait, 50))

    expect(given.headers['x-request-id']).toBe('via-nginx-1')
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/) // nginx's $request_id
    expect(service.logs.some((line) => line.requestId === 'via-nginx-1' && line.route === '/health')).toBe(
      true,
    )
  })

  it.each([
    ['Server-Sent Events', 'text/event-stream', 'event: next'],
    // Apollo Client's multipart subscriptions: each event is a part, complete once the next delimiter is there.
    [
      'Apollo multipart',
      'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json',
      '"payload"',
    ],
  ])(
    'streams subscription events at once, without buffering them (%s)',
    async (_kind, accept, firstEvent) => {
      const started = performance.now()
      const firstEventAt = await new Promise<number>((done, fail) => {
        const req = request(
          {
            host: 'localhost',
            port: nginx.httpsPort,
            path: '/graphql',
            method: 'POST',
            ca: certificates.ca,
            headers: { 'content-type': 'application/json', accept },
          },
          (res) => {
            res.on('data', (chunk: Buffer) => {
              if (chunk.toString().includes(firstEvent)) {
                done(performance.now() - started)
                req.destroy()
              }
            })
          },
        )
        req.on('error', (error) => (error.message.includes('aborted') ? undefined : fail(error)))
        req.end(JSON.stringify({ query: 'subscription { healthChanged { healthy } }' }))
      })

      // The stream stays open (the app pings every 12 s); a buffering proxy would hold this first small event.
      expect(firstEventAt).toBeLessThan(3000)
    },
  )

  it('refuses bodies over its own limit before they reach the app', async () => {
    const answer = await viaNginx('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(2 * 1024 * 1024),
    })

    expect(answer.status).toBe(413)
  })

  it("answers 413 to GraphQL bodies over the app's limit (150 KB, 500 KB; 30 each), as the app would", async () => {
    const results = await postBodiesOfSizes(nginx.httpsPort, [150 * 1024, 500 * 1024], 30)

    expect(results.statuses, nginx.errorLog()).toEqual({ 413: 60 })
    expect(results.bodies).toEqual([
      seedJson({ error: 'Request body larger than 100000 bytes', code: 'PAYLOAD_TOO_LARGE' }),
    ])
    expect(results.contentTypes).toEqual(['application/json'])
  })

  it("passes on the app's own 413, never a 502, behind a proxy that lets 1 MB bodies through", async () => {
    // The same file without the /graphql body limit: the app must answer these bodies itself, and
    // nginx (which sends the whole body before reading the answer) must get that answer.
    let removed = false
    const lenient = await startNginx(Number(new URL(service.url).port), certificates, (site) =>
      site.replace(/^\s*client_max_body_size 100000;.*$/m, () => {
        removed = true
        return ''
      }),
    )
    try {
      const results = await postBodiesOfSizes(lenient.httpsPort, [150 * 1024, 500 * 1024], 30)

      expect(removed).toBe(true)
      expect(results.statuses, lenient.errorLog()).toEqual({ 413: 60 })
      expect(results.bodies).toEqual([
        seedJson({ error: 'Request body larger than 100000 bytes', code: 'PAYLOAD_TOO_LARGE' }),
      ])
    } finally {
      lenient.stop()
    }
  })

  it('offers the same TLS as the app: ECDHE with AEAD on TLS 1.2, and TLS 1.3; AES128-SHA refused', async () => {
    const tls12 = ['-tls1_2', '-cipher']
    const aes128Sha = await opensslHandshake(nginx.httpsPort, [...tls12, 'AES128-SHA'])
    const ecdheCbc = await opensslHandshake(nginx.httpsPort, [...tls12, 'ECDHE-RSA-AES128-SHA'])
    const ecdheGcm = await opensslHandshake(nginx.httpsPort, [...tls12, 'ECDHE-RSA-AES128-GCM-SHA256'])
    const tls13 = await opensslHandshake(nginx.httpsPort, ['-tls1_3'])

    expect(aes128Sha.cipher).toBe('(NONE)')
    expect(ecdheCbc.cipher).toBe('(NONE)')
    expect(ecdheGcm.cipher, ecdheGcm.output).toBe('ECDHE-RSA-AES128-GCM-SHA256')
    expect(tls13.cipher).toMatch(/^TLS_/)
  })

  it('redirects plain HTTP to HTTPS', async () => {
    const response = await fetch(`http://127.0.0.1:${nginx.httpPort}/health`, { redirect: 'manual' })

    expect(response.status).toBe(308)
    expect(response.headers.get('location')).toMatch(/^https:\/\/127\.0\.0\.1(:\d+)?\/health$/)
    expect(response.headers.get('server')).toBe('nginx') // no version (server_tokens off)
  })
})
