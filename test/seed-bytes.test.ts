import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { findFreePort } from '../src/net/free-port.js'
import { exchange, RECORDED, seedBody as recordedBody } from './support/seed-bytes.js'
import { CONTAINER_NAME, type RunningService, startService } from './support/service.js'

const seedBody = (title: string) => recordedBody(title, CONTAINER_NAME)

const postgres = inject('postgres')
let up: RunningService
let down: RunningService

beforeAll(async () => {
  up = await startService(postgres.app)
  down = await startService({ ...postgres.app, port: await findFreePort() }, { monitor: false })
})
afterAll(async () => {
  await up.close()
  await down.close()
})

describe("the seed's bytes", () => {
  it('GET /health, database up: the same body, byte for byte, closing newline included', async () => {
    const answer = await exchange(up.url, 'GET', '/health')

    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toBe('application/json')
    expect(answer.body.toString('utf8')).toBe(seedBody('GET /health                     (database up)'))
  })

  it('GET /health, database down: 503 and the same body', async () => {
    const answer = await exchange(down.url, 'GET', '/health')

    expect(answer.status).toBe(503)
    expect(answer.headers['content-type']).toBe('application/json')
    expect(answer.body.toString('utf8')).toBe(seedBody('GET /health                     (database down)'))
  })

  it('GET /number_of_tables: the same shape (a string count, sorted keys, compact, newline)', async () => {
    const answer = await exchange(up.url, 'GET', '/number_of_tables')
    const recorded = seedBody('GET /number_of_tables           (database up')

    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toBe('application/json')
    expect(answer.body.toString('utf8')).toMatch(/^\{"number_of_tables":"\d+"\}\n$/)
    expect(answer.body.toString('utf8').replace(/\d+/, 'N')).toBe(recorded.replace(/\d+/, 'N'))
  })

  it.each(['/health', '/number_of_tables'])(
    'OPTIONS %s: 200, Allow as the seed spelled it, empty body',
    async (path) => {
      const answer = await exchange(up.url, 'OPTIONS', path)

      expect(RECORDED).toContain('OPTIONS /health                 200, Allow: OPTIONS, HEAD, GET, empty body')
      expect(answer.status).toBe(200)
      expect(answer.headers.allow).toBe('OPTIONS, HEAD, GET')
      expect(answer.headers['content-length']).toBe('0')
      expect(answer.body.length).toBe(0)
    },
  )

  it('HEAD /health: the GET headers, no body; POST: 405 with the same Allow', async () => {
    const get = await exchange(up.url, 'GET', '/health')
    const head = await exchange(up.url, 'HEAD', '/health')
    const post = await exchange(up.url, 'POST', '/health')

    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe(get.headers['content-length'])
    expect(head.body.length).toBe(0)
    expect(post.status).toBe(405)
    expect(post.headers.allow).toBe('OPTIONS, HEAD, GET')
  })

  it('error bodies are written the same way: sorted keys, compact, a closing newline', async () => {
    const missing = await exchange(up.url, 'GET', '/nope')

    expect(missing.status).toBe(404)
    expect(missing.body.toString('utf8')).toBe('{"code":"NOT_FOUND","error":"Not Found"}\n')
  })
})
