import { describe, expect, it } from 'vitest'
import { DatabaseBusyError } from '../../src/db/failure-reasons.js'
import { appOverMemory } from '../support/app-over-memory.js'
import { CONTAINER_NAME } from '../support/service.js'

describe('the seed routes over the in-memory database', () => {
  it('GET /health: the seed body and 200 while the database answers', async () => {
    const app = appOverMemory()

    const response = await app.request('/health')

    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ container: CONTAINER_NAME, status: 'Healthy!' })
    expect(response.headers['content-type']).toBe('application/json')
    expect(response.headers['cache-control']).toBe('no-store')
    expect(response.headers.vary).toBe('Accept')
  })

  it('GET /health: Unhealthy and 503 when it does not', async () => {
    const app = appOverMemory()
    app.db.setUnreachable('connection refused')

    const response = await app.request('/health')

    expect(response.statusCode).toBe(503)
    expect(response.json()).toEqual({ container: CONTAINER_NAME, status: 'Unhealthy' })
  })

  it('GET /number_of_tables: the count as a string, as the seed sent it', async () => {
    const app = appOverMemory()
    app.db.addTables({ schema: 'public', name: 'one' }, { schema: 'public', name: 'two' })

    const response = await app.request('/number_of_tables')

    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ number_of_tables: '5' }) // 3 system stand-ins + 2
  })

  it('GET /number_of_tables: 503 DATABASE_UNAVAILABLE with the fixed reason and Retry-After', async () => {
    const app = appOverMemory()
    app.db.setUnreachable('timeout')

    const response = await app.request('/number_of_tables')

    expect(response.statusCode).toBe(503)
    expect(response.headers['retry-after']).toBe('5')
    expect(response.json()).toEqual({
      error: 'The database is unavailable.',
      code: 'DATABASE_UNAVAILABLE',
      reason: 'timeout',
    })
  })

  it('GET /number_of_tables: 503 DATABASE_BUSY with its reason and Retry-After: 1 when the database is busy', async () => {
    const app = appOverMemory()
    app.db.setBroken(new DatabaseBusyError('statement timeout'))

    const response = await app.request('/number_of_tables')

    expect(response.statusCode).toBe(503)
    expect(response.headers['retry-after']).toBe('1')
    expect(response.json()).toEqual({
      error: 'The database is busy.',
      code: 'DATABASE_BUSY',
      reason: 'statement timeout',
    })
    expect(app.logs.filter((line) => Number(line.level) >= 50)).toEqual([])
  })

  it('GET /number_of_tables: an unexpected failure is a bare 500, logged and never sent', async () => {
    const app = appOverMemory()
    app.db.setBroken(new Error('relation "secret_table" does not exist'))

    const response = await app.request('/number_of_tables')

    expect(response.statusCode).toBe(500)
    expect(response.json()).toEqual({ error: 'Internal Server Error', code: 'INTERNAL_SERVER_ERROR' })
    expect(response.payload).not.toContain('secret_table')
    expect(app.logs.some((line) => line.level === 50 && JSON.stringify(line).includes('secret_table'))).toBe(
      true,
    )
  })

  it('HEAD answers with the status and headers of GET and no body', async () => {
    const app = appOverMemory()

    const response = await app.request({ method: 'HEAD', url: '/number_of_tables' })

    expect(response.statusCode).toBe(200)
    expect(response.headers['content-length']).toBe(String('{"number_of_tables":"3"}\n'.length))
    expect(response.payload).toBe('')
  })

  it('answers OPTIONS as the seed did: 200, Allow, no body', async () => {
    const app = appOverMemory()

    const response = await app.request({ method: 'OPTIONS', url: '/number_of_tables' })

    expect(response.statusCode).toBe(200)
    expect(response.headers.allow).toBe('OPTIONS, HEAD, GET')
    expect(response.payload).toBe('')
  })

  it('sends JSON as Flask’s jsonify did: sorted keys and a closing newline', async () => {
    const app = appOverMemory()
    app.db.setUnreachable('timeout')

    const response = await app.request('/number_of_tables')

    expect(response.payload).toBe(
      '{"code":"DATABASE_UNAVAILABLE","error":"The database is unavailable.","reason":"timeout"}\n',
    )
  })

  it('refuses other methods with 405 and Allow, and unknown paths with a JSON 404', async () => {
    const app = appOverMemory()

    const post = await app.request({ method: 'POST', url: '/health' })
    const missing = await app.request('/no/such/path?x=1')

    expect(post.statusCode).toBe(405)
    expect(post.headers.allow).toBe('OPTIONS, HEAD, GET')
    expect(post.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' })
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toEqual({ error: 'Not Found', code: 'NOT_FOUND' })
  })

  it('gives every answer a request id: the caller’s when sane, else a new one', async () => {
    const app = appOverMemory()

    const sane = await app.request({ url: '/livez', headers: { 'x-request-id': 'probe-42' } })
    const hostile = await app.request({ url: '/livez', headers: { 'x-request-id': 'a b"c' } })

    expect(sane.headers['x-request-id']).toBe('probe-42')
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('probes over the in-memory database', () => {
  it('/livez is 200 whatever the database; /readyz waits for the first check', async () => {
    const app = appOverMemory()
    app.db.setUnreachable('connection refused')

    const live = await app.request('/livez')
    const starting = await app.request('/readyz')

    expect(live.statusCode).toBe(200)
    expect(live.json()).toMatchObject({ status: 'alive' })
    expect(starting.statusCode).toBe(503)
    expect(starting.json()).toEqual({ status: 'not ready', reason: 'starting' })
  })

  it('/readyz follows the monitor’s own checks, damped (3 failures by default), without checking itself', async () => {
    const app = appOverMemory()
    await app.monitor.checkAndJudge()
    const checks = app.db.healthChecks

    const ready = await app.request('/readyz')
    app.db.setUnreachable('connection refused')
    await app.monitor.checkAndJudge()
    await app.monitor.checkAndJudge()
    const stillReady = await app.request('/readyz')
    await app.monitor.checkAndJudge()
    const down = await app.request('/readyz')

    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: 'ready' })
    expect(stillReady.statusCode).toBe(200)
    expect(down.statusCode).toBe(503)
    expect(down.json()).toEqual({ status: 'not ready', reason: 'database unreachable' })
    expect(app.db.healthChecks).toBe(checks + 3)
  })

  it('at shutdown: not ready at once, liveness unchanged, and every answer says Connection: close', async () => {
    const app = appOverMemory()
    await app.monitor.checkAndJudge()

    app.lifecycle.beginShutdown()
    const ready = await app.request('/readyz')
    const live = await app.request('/livez')

    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toEqual({ status: 'not ready', reason: 'shutting down' })
    expect(live.statusCode).toBe(200)
    expect(live.headers.connection).toBe('close')
  })
})
