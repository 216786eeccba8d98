import { request } from 'node:http'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let service: RunningService

beforeAll(async () => {
  service = await startService(postgres.app)
})
afterAll(() => service?.close())

function get(path: string, headers: Record<string, string> = {}) {
  const { port, hostname } = new URL(service.url)
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      const req = request({ host: hostname, port, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        )
      })
      req.on('error', reject)
      req.end()
    },
  )
}

describe('compression', () => {
  it.each(['/metrics', '/openapi.json'])(
    'gzips %s for clients that accept gzip, and only for them',
    async (path) => {
      const zipped = await get(path, { 'accept-encoding': 'gzip' })
      const plain = await get(path)
      const refused = await get(path, { 'accept-encoding': 'gzip;q=0, identity' })

      expect(zipped.status).toBe(200)
      expect(zipped.headers['content-encoding']).toBe('gzip')
      expect(zipped.headers.vary).toContain('Accept-Encoding')
      expect(Number(zipped.headers['content-length'])).toBe(zipped.body.length)
      expect(zipped.body.length).toBeLessThan(plain.body.length / 2)
      expect(gunzipSync(zipped.body).toString('utf8').slice(0, 40)).toBe(
        plain.body.toString('utf8').slice(0, 40),
      )
      expect(plain.headers['content-encoding']).toBeUndefined()
      expect(refused.headers['content-encoding']).toBeUndefined()
    },
  )

  it.each(['/health', '/number_of_tables'])(
    'sends the seed\u2019s small %s body as it is, whatever the client accepts',
    async (path) => {
      const answer = await get(path, { 'accept-encoding': 'gzip' })

      expect(answer.status).toBe(200)
      expect(answer.headers['content-encoding']).toBeUndefined()
      expect(JSON.parse(answer.body.toString('utf8'))).toBeTypeOf('object')
    },
  )
})
