import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Certificates, makeCertificates, postgresSystemUser } from '../support/certificates.js'
import { opensslHandshake } from '../support/openssl-handshake.js'
import { startTestPostgres, type TestPostgres, withClient } from '../support/postgres.js'
import { type RunningService, startService } from '../support/service.js'

let certificates: Certificates
let postgres: TestPostgres
const services: RunningService[] = []

beforeAll(async () => {
  certificates = makeCertificates(postgresSystemUser())
  postgres = await startTestPostgres({
    ssl: 'on',
    ssl_cert_file: certificates.certFile,
    ssl_key_file: certificates.keyFile,
  })
}, 120_000)
afterAll(async () => {
  await Promise.all(services.map((service) => service.close()))
  await postgres?.destroy()
})

async function start(...[settings, options]: Parameters<typeof startService>) {
  // A TLS handshake and a password exchange can take over the default 2 s on a busy machine: the
  // outcome, not the speed, is what these tests check.
  const service = await startService(settings, { healthTimeoutMs: 10_000, ...options })
  services.push(service)
  return service
}

async function healthOf(service: RunningService) {
  const response = await fetch(
    `${service.url}/graphql?query=${encodeURIComponent('{ health { healthy reason } }')}`,
  )
  return (await response.json()).data.health
}

/** Whether the service's own connections to PostgreSQL are encrypted, as the server sees them. */
async function serviceConnectionsUseTls(): Promise<boolean[]> {
  return withClient(postgres.admin, async (admin) =>
    (
      await admin.query(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.application_name = 'ctera-app'",
      )
    ).rows.map((row) => row.ssl as boolean),
  )
}

describe('TLS to PostgreSQL (DB_SSLMODE)', () => {
  it('require: encrypts the connection (without checking the certificate)', async () => {
    const service = await start({ ...postgres.app, tls: { mode: 'require' } }, { monitor: false })

    expect(await healthOf(service)).toEqual({ healthy: true, reason: null })
    expect(await serviceConnectionsUseTls()).toContain(true)
    expect(await serviceConnectionsUseTls()).not.toContain(false)
  })

  it('verify-full: connects when the server certificate is signed by DB_SSLROOTCERT and names the host', async () => {
    const service = await start(
      { ...postgres.app, host: 'localhost', tls: { mode: 'verify-full', ca: certificates.ca } },
      { monitor: false },
    )

    expect(await healthOf(service)).toEqual({ healthy: true, reason: null })
  })

  it('verify-full with the wrong CA: Unhealthy with the fixed reason "tls error", and nothing leaks', async () => {
    const wrongCa = readFileSync(certificates.otherCaFile, 'utf8')
    const service = await start(
      { ...postgres.app, tls: { mode: 'verify-full', ca: wrongCa } },
      { monitor: false },
    )

    const health = await fetch(`${service.url}/health`)
    const report = await healthOf(service)

    expect(health.status).toBe(503)
    expect(report).toEqual({ healthy: false, reason: 'tls error' })
  })

  it('require with DB_SSLROOTCERT checks the CA, as libpq does: a wrong CA is a tls error', async () => {
    const wrongCa = readFileSync(certificates.otherCaFile, 'utf8')
    const wrong = await start({ ...postgres.app, tls: { mode: 'require', ca: wrongCa } }, { monitor: false })
    // The certificate names localhost only: as with verify-ca, the host name is not checked.
    const right = await start(
      { ...postgres.app, host: '127.0.0.1', tls: { mode: 'require', ca: certificates.ca } },
      { monitor: false },
    )

    expect(await healthOf(wrong)).toEqual({ healthy: false, reason: 'tls error' })
    expect((await fetch(`${wrong.url}/health`)).status).toBe(503)
    expect(await healthOf(right)).toEqual({ healthy: true, reason: null })
  })

  it('verify-ca accepts a certificate whose name does not match the host; verify-full does not', async () => {
    // The certificate names localhost only; 127.0.0.1 reaches the same server under another name.
    const alias = '127.0.0.1'
    const relaxed = await start(
      { ...postgres.app, host: alias, tls: { mode: 'verify-ca', ca: certificates.ca } },
      { monitor: false },
    )
    const strict = await start(
      { ...postgres.app, host: alias, tls: { mode: 'verify-full', ca: certificates.ca } },
      { monitor: false },
    )

    expect(await healthOf(relaxed)).toEqual({ healthy: true, reason: null })
    expect(await healthOf(strict)).toEqual({ healthy: false, reason: 'tls error' })
  })
})

const tlsFiles = () => ({
  cert: readFileSync(certificates.certFile, 'utf8'),
  key: readFileSync(certificates.keyFile, 'utf8'),
})

describe('HTTPS for the service (TLS_CERT_FILE, TLS_KEY_FILE)', () => {
  it('serves the seed contract over HTTPS to a client that trusts the CA', async () => {
    const service = await start(postgres.app, { monitor: false, tls: tlsFiles() })
    const port = Number(new URL(service.url).port)

    const answer = await new Promise<{ status?: number; body: string; protocol: string }>(
      (resolve, reject) => {
        const req = request({ host: 'localhost', port, path: '/health', ca: certificates.ca }, (res) => {
          const protocol = (res.socket as import('node:tls').TLSSocket).getProtocol() ?? ''
          let body = ''
          res.on('data', (chunk) => (body += chunk))
          res.on('end', () => resolve({ status: res.statusCode, body, protocol }))
        })
        req.on('error', reject)
        req.end()
      },
    )

    expect(service.url).toMatch(/^https:/)
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('{"container":"ctera-app-test","status":"Healthy!"}\n')
    expect(answer.protocol).toMatch(/^TLSv1\.[23]$/)
  })

  it('offers forward secrecy only: ECDHE with AEAD on TLS 1.2, and TLS 1.3; AES128-SHA and the like refused', async () => {
    const service = await start(postgres.app, { monitor: false, tls: tlsFiles() })
    const port = Number(new URL(service.url).port)
    // Node's defaults, as the service had them: the same client gets AES128-SHA there.
    const defaults = createTlsServer(tlsFiles(), (socket) => socket.end())
    await new Promise<void>((resolve) => defaults.listen(0, '127.0.0.1', resolve))
    const defaultsPort = (defaults.address() as AddressInfo).port

    const tls12 = ['-tls1_2', '-cipher']
    const results = {
      aes128Sha: await opensslHandshake(port, [...tls12, 'AES128-SHA']),
      rsaKeyExchangeGcm: await opensslHandshake(port, [...tls12, 'AES128-GCM-SHA256']),
      ecdheCbc: await opensslHandshake(port, [...tls12, 'ECDHE-RSA-AES128-SHA256']),
      dheGcm: await opensslHandshake(port, [...tls12, 'DHE-RSA-AES128-GCM-SHA256']),
      ecdheGcm: await opensslHandshake(port, [...tls12, 'ECDHE-RSA-AES128-GCM-SHA256']),
      ecdheChacha: await opensslHandshake(port, [...tls12, 'ECDHE-RSA-CHACHA20-POLY1305']),
      tls13: await opensslHandshake(port, ['-tls1_3']),
      tls11: await opensslHandshake(port, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']),
    }
    const control = await opensslHandshake(defaultsPort, [...tls12, 'AES128-SHA'])
    defaults.close()

    expect(control.cipher, control.output).toBe('AES128-SHA')
    expect(results.aes128Sha.cipher).toBe('(NONE)')
    expect(results.aes128Sha.status).not.toBe(0)
    expect(results.rsaKeyExchangeGcm.cipher).toBe('(NONE)')
    expect(results.ecdheCbc.cipher).toBe('(NONE)')
    expect(results.dheGcm.cipher).toBe('(NONE)')
    expect(results.ecdheGcm.cipher, results.ecdheGcm.output).toBe('ECDHE-RSA-AES128-GCM-SHA256')
    expect(results.ecdheChacha.cipher).toBe('ECDHE-RSA-CHACHA20-POLY1305')
    expect(results.tls13.cipher).toMatch(
      /^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/,
    )
    expect(results.tls11.cipher).toBe('(NONE)')
  })
})
