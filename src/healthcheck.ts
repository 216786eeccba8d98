/**
 * The image's HEALTHCHECK: `node dist/healthcheck.js` exits 0 when GET /health answers 200, else 1.
 * It needs no curl in the image and reads only PORT and HOST, so a health check never parses secrets.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { reachableHost } from './net/reachable-host.js'

const port = Number(process.env.PORT || 5001)
const host = reachableHost(process.env.HOST || '0.0.0.0')
const timeoutMs = Number(process.env.HEALTH_TIMEOUT_MS || 2000) + 1000
// With TLS the server's certificate names its public host, not 127.0.0.1: this self-check does not verify it.
const tls = Boolean(process.env.TLS_CERT_FILE)
const request = tls ? httpsRequest : httpRequest
const url = `${tls ? 'https' : 'http'}://${host}:${port}/health`

function fail(message: string): never {
  process.stderr.write(`healthcheck: ${message}\n`)
  process.exit(1)
}

if (!Number.isInteger(port) || port < 1 || port > 65535) fail('PORT must be an integer from 1 to 65535')

const req = request(
  { host, port, path: '/health', method: 'GET', timeout: timeoutMs, rejectUnauthorized: false },
  (res) => {
    res.resume()
    if (res.statusCode === 200) process.exit(0)
    fail(`/health answered ${res.statusCode}`)
  },
)
req.on('timeout', () => {
  req.destroy()
  fail(`no answer from ${url} in ${timeoutMs} ms`)
})
req.on('error', (error: NodeJS.ErrnoException) =>
  fail(`cannot reach ${url} (${error.code ?? error.message})`),
)
req.end()
