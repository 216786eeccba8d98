import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { findFreePort } from '../../src/db/embedded.js'
import { type Certificates, makeCertificates } from '../support/certificates.js'
import { ROOT } from '../support/dockerfile.js'
import { type RunningService, startService } from '../support/service.js'

// Debian's nginx (.ci/run installs it) runs the shipped deploy/nginx/ctera-app.conf, with only the
// upstream address, the listen ports and the certificate paths changed for this machine.
const NGINX = '/usr/sbin/nginx'
const postgres = inject('postgres')
let service: RunningService
let certificates: Certificates
let nginx: ChildProcess
let httpsPort: number
let httpPort: number

function configFor(appPort: number, dir: string): string {
  const shipped = readFileSync(resolve(ROOT, 'deploy/nginx/ctera-app.conf'), 'utf8')
  const site = shipped
    .replace('server ctera-app:5001;', `server 127.0.0.1:${appPort};`)
    .replace('listen 443 ssl', `listen 127.0.0.1:${httpsPort} ssl`)
    .replace('listen 80;', `listen 127.0.0.1:${httpPort};`)
    .replace('/etc/nginx/tls/server.crt', certificates.certFile)
    .replace('/etc/nginx/tls/server.key', certificates.keyFile)
  writeFileSync(join(dir, 'ctera-app.conf'), site)
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub))
  return `
    daemon off;
    worker_processes 1;
    pid ${dir}/nginx.pid;
    error_log ${dir}/error.log warn;
    ${process.getuid?.() === 0 ? 'user root;' : ''}
    events { worker_connections 128; }
    http {
      access_log off;
      client_body_temp_path ${dir}/body;
      proxy_temp_path ${dir}/proxy;
      fastcgi_temp_path ${dir}/fastcgi;
      uwsgi_temp_path ${dir}/uwsgi;
      scgi_temp_path ${dir}/scgi;
      include ${dir}/ctera-app.conf;
    }`
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy()
        done(true)
      })
      socket.on('error', () => done(false))
    })
    if (open) return
    await new Promise((wait) => setTimeout(wait, 50))
  }
  throw new Error(`nginx did not listen on ${port}`)
}

beforeAll(async () => {
  certificates = makeCertificates()
  service = await startService(postgres.app)
  httpsPort = await findFreePort()
  httpPort = await findFreePort()
  const dir = mkdtempSync(join(tmpdir(), 'ctera-nginx-'))
  writeFileSync(join(dir, 'nginx.conf'), configFor(Number(new URL(service.url).port), dir))
  nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' })
  await waitForPort(httpsPort)
}, 60_000)
afterAll(async () => {
  nginx?.kill('SIGQUIT')
  await service?.close()
})

interface Answer {
  status?: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function viaNginx(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = request(
      {
        host: 'localhost',
        port: httpsPort,
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

describe('the reverse proxy (deploy/nginx/ctera-app.conf on real nginx)', () => {
  it('terminates TLS and passes the seed contract through', async () => {
    const health = await viaNginx('/health')
    const tables = await viaNginx('/number_of_tables')

    expect(health.status).toBe(200)
    expect(health.body).toBe('{"container":"ctera-app-test","status":"Healthy!"}')
    expect(tables.body).toMatch(/^\{"number_of_tables":"\d+"\}$/)
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

  it('streams subscription events at once, without buffering them', async () => {
    const started = performance.now()
    const firstEventAt = await new Promise<number>((done, fail) => {
      const req = request(
        {
          host: 'localhost',
          port: httpsPort,
          path: '/graphql',
          method: 'POST',
          ca: certificates.ca,
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        },
        (res) => {
          res.on('data', (chunk: Buffer) => {
            if (chunk.toString().includes('event: next')) {
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
  })

  it('refuses bodies over its own limit before they reach the app', async () => {
    const answer = await viaNginx('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(2 * 1024 * 1024),
    })

    expect(answer.status).toBe(413)
  })

  it('redirects plain HTTP to HTTPS', async () => {
    const response = await fetch(`http://127.0.0.1:${httpPort}/health`, { redirect: 'manual' })

    expect(response.status).toBe(308)
    expect(response.headers.get('location')).toMatch(/^https:\/\/127\.0\.0\.1(:\d+)?\/health$/)
  })
})
