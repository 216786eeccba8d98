import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  MAIN,
  PRODUCTION_NODE_FLAGS,
  readableByNobody,
  spawnService,
  startServiceProcess,
} from '../support/process.js'
import { type RunningService, startService } from '../support/service.js'

// With AUTH_TOKEN_FILE, everything but the seed's routes, the probes and GraphiQL's page needs the token;
// without it, everything answers as before. The service here is a real one on a real PostgreSQL.
const postgres = inject('postgres')
const TOKEN = randomBytes(32).toString('hex')
// As long as the token and as close as it gets: only the last character differs.
const WRONG = `${TOKEN.slice(0, -1)}${TOKEN.endsWith('0') ? '1' : '0'}`
let guarded: RunningService
let open: RunningService

beforeAll(async () => {
  guarded = await startService(postgres.app, { authToken: TOKEN, graphiql: true })
  open = await startService(postgres.app, { graphiql: true })
  await guarded.monitor.check()
  await open.monitor.check()
})
afterAll(async () => {
  await guarded?.close()
  await open?.close()
})

const MUST_HOLD =
  '{file} must hold one line of 16 or more letters, digits or -._~+/ (e.g. openssl rand -hex 32)'
const QUERY = '{ health { healthy } database { tables(first: 1) { totalCount } } }'

/** Requests that reach beyond the seed: each needs the token when one is set. */
const BEYOND_THE_SEED: Array<[string, string, RequestInit]> = [
  ['/metrics', 'GET', {}],
  ['/healthz', 'GET', {}],
  ['/health', 'GET', { headers: { accept: 'application/health+json' } }],
  ['/openapi.json', 'GET', {}],
  [
    '/graphql',
    'POST',
    { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) },
  ],
  [`/graphql?query=${encodeURIComponent(QUERY)}`, 'GET', { headers: { accept: 'application/json' } }],
  ['/graphql', 'HEAD', {}],
]

function call(service: RunningService, [path, method, init]: [string, string, RequestInit], token?: string) {
  const headers = new Headers(init.headers)
  if (token !== undefined) headers.set('authorization', `Bearer ${token}`)
  return fetch(`${service.url}${path}`, { ...init, method, headers })
}

describe('with AUTH_TOKEN_FILE set', () => {
  it.each(BEYOND_THE_SEED)(
    '%s (%s) is 401 without the token, with a Bearer challenge and a short JSON body',
    async (...request) => {
      const response = await call(guarded, request)

      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="ctera-app"')
      expect(response.headers.get('cache-control')).toBe('no-store')
      if (request[1] !== 'HEAD')
        expect(await response.text()).toBe('{"code":"UNAUTHORIZED","error":"A bearer token is required."}\n')
    },
  )

  it.each(BEYOND_THE_SEED)('%s (%s) is 401 with a wrong token (invalid_token)', async (...request) => {
    const response = await call(guarded, request, WRONG)

    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="ctera-app", error="invalid_token"')
    if (request[1] !== 'HEAD')
      expect(await response.json()).toEqual({ code: 'UNAUTHORIZED', error: 'The bearer token is not valid.' })
  })

  it.each(BEYOND_THE_SEED)(
    '%s (%s) answers as without a token set when the token comes',
    async (...request) => {
      const withToken = await call(guarded, request, TOKEN)
      const unguarded = await call(open, request)

      expect(withToken.status).toBe(unguarded.status)
      expect(withToken.status).toBeLessThan(400)
      expect(withToken.headers.get('content-type')).toBe(unguarded.headers.get('content-type'))
    },
  )

  it('answers GraphQL with the token: the data is there', async () => {
    const response = await call(guarded, BEYOND_THE_SEED[4] as never, TOKEN)

    const body = await response.json()
    expect(body.errors).toBeUndefined()
    expect(body.data.health.healthy).toBe(true)
    expect(body.data.database.tables.totalCount).toBeGreaterThan(0)
  })

  it('accepts the scheme in any case, refuses other schemes, extra words and the token alone', async () => {
    const metrics = (authorization: string) =>
      fetch(`${guarded.url}/metrics`, { headers: { authorization } }).then((response) => response.status)

    expect(await metrics(`bearer ${TOKEN}`)).toBe(200)
    expect(await metrics(`BEARER  ${TOKEN}`)).toBe(200)
    expect(await metrics(TOKEN)).toBe(401)
    expect(await metrics(`Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`)).toBe(401)
    expect(await metrics(`Bearer ${TOKEN} ${TOKEN}`)).toBe(401)
    expect(await metrics(`Bearer ${TOKEN}x`)).toBe(401)
    expect(await metrics(`Bearer ${TOKEN.slice(0, 16)}`)).toBe(401)
    expect(await metrics('Bearer ')).toBe(401)
  })

  it('keeps the seed routes and the probes open, byte for byte as without a token', async () => {
    for (const path of ['/health', '/number_of_tables', '/livez', '/readyz']) {
      const guardedAnswer = await fetch(`${guarded.url}${path}`)
      const openAnswer = await fetch(`${open.url}${path}`)

      expect(guardedAnswer.status, path).toBe(200)
      const [guardedBody, openBody] = [await guardedAnswer.text(), await openAnswer.text()]
      if (path === '/livez') expect(guardedBody).toMatch(/^\{"status":"alive"/)
      else expect(guardedBody, path).toBe(openBody)
    }
    // A wrong token on an open route changes nothing: the route does not look at it.
    const withWrongToken = await fetch(`${guarded.url}/health`, {
      headers: { authorization: `Bearer ${WRONG}` },
    })
    expect(withWrongToken.status).toBe(200)
  })

  it('keeps GraphiQL\u2019s page, its assets and OPTIONS open: they hold no data', async () => {
    const page = await fetch(`${guarded.url}/graphql`, { headers: { accept: 'text/html' } })
    const html = await page.text()
    const asset = html.match(/\/graphiql\/[^"']+\.js/)?.[0]
    const options = await fetch(`${guarded.url}/metrics`, { method: 'OPTIONS' })

    expect(page.status).toBe(200)
    expect(html).not.toContain(TOKEN)
    expect(asset).toBeDefined()
    expect((await fetch(`${guarded.url}${asset}`)).status).toBe(200)
    expect(options.status).toBe(200)
    expect(await options.text()).toBe('')
  })

  it('refuses unknown paths with 401, not 404: which routes exist is not told either', async () => {
    const unknown = await fetch(`${guarded.url}/admin`)
    const withToken = await fetch(`${guarded.url}/admin`, { headers: { authorization: `Bearer ${TOKEN}` } })

    expect(unknown.status).toBe(401)
    expect(withToken.status).toBe(404)
  })

  it('reads and discards a refused body, so the client gets the 401 and the connection stays usable', async () => {
    const body = JSON.stringify({ query: `{ health { healthy } } # ${'x'.repeat(90_000)}` })
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${guarded.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      statuses.push(response.status)
      await response.arrayBuffer()
    }
    const after = await fetch(`${guarded.url}/health`)

    expect(statuses).toEqual([401, 401, 401])
    expect(after.status).toBe(200)
  })

  it('never writes the token (right or wrong) in a log line, and logs each 401 as one request line', async () => {
    const logs = guarded.rawLogs.join('\n')
    const refused = guarded.logs.filter((line) => line.msg === 'request' && line.status === 401)

    expect(logs).not.toContain(TOKEN)
    expect(logs).not.toContain(WRONG)
    expect(logs.toLowerCase()).not.toContain('authorization')
    expect(refused.length).toBeGreaterThan(10)
    expect(guarded.logs.filter((line) => Number(line.level) >= 50)).toEqual([])
  })
})

describe('the 401 series in /metrics', () => {
  it('exist from the start with a token, and are not there without one', async () => {
    const series = '{method="GET",route="/metrics",status="401"}'
    // A fresh service: no request has been refused yet.
    const fresh = await startService(postgres.app, { authToken: TOKEN, monitor: false })
    const guardedMetrics = await (
      await fetch(`${fresh.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text()
    await fresh.close()
    const openMetrics = await (await fetch(`${open.url}/metrics`)).text()

    expect(guardedMetrics).toContain(`http_request_duration_seconds_count${series} 0`)
    expect(openMetrics).not.toContain('status="401"')
  })
})

describe('without AUTH_TOKEN_FILE', () => {
  it.each(BEYOND_THE_SEED)('%s (%s) answers without a token, as before', async (...request) => {
    const response = await call(open, request)

    expect(response.status).toBeLessThan(400)
    expect(response.headers.get('www-authenticate')).toBeNull()
  })
})

describe('the compiled service with the production flags, the token in a file', () => {
  let dir: string
  let tokenFile: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctera-token-'))
    await chmod(dir, 0o755)
    tokenFile = join(dir, 'auth_token')
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o644 })
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('guards /metrics and /graphql, leaves /health and the image health check open, logs no token', async () => {
    const started = await startServiceProcess(
      postgres.app,
      { NODE_ENV: 'production', CONTAINER_NAME: 'token-test', AUTH_TOKEN_FILE: tokenFile },
      { args: [...PRODUCTION_NODE_FLAGS, MAIN] },
    )
    const base = `http://127.0.0.1:${started.port}`
    try {
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
      const graphql = (headers: Record<string, string>, body = JSON.stringify({ query: QUERY })) =>
        fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
        })

      const metrics = [
        await fetch(`${base}/metrics`),
        await fetch(`${base}/metrics`, { headers: bearer(WRONG) }),
        await fetch(`${base}/metrics`, { headers: bearer(TOKEN) }),
      ]
      const queries = [await graphql({}), await graphql(bearer(WRONG)), await graphql(bearer(TOKEN))]
      // A malformed body with the token: the error path logs too, and must not log the token either.
      const malformed = await graphql(bearer(TOKEN), '{"query":')
      const health = await fetch(`${base}/health`)
      const healthcheck = spawnSync(process.execPath, [resolve(MAIN, '../healthcheck.js')], {
        env: { PORT: String(started.port), HOST: '127.0.0.1' },
        timeout: 30_000,
      })

      expect(metrics.map((response) => response.status)).toEqual([401, 401, 200])
      expect(await metrics[2]?.text()).toContain('db_up')
      expect(queries.map((response) => response.status)).toEqual([401, 401, 200])
      expect(malformed.status).toBe(400)
      expect(health.status).toBe(200)
      expect(await health.text()).toBe('{"container":"token-test","status":"Healthy!"}\n')
      expect(healthcheck.status).toBe(0)
      expect((await started.service.waitForLog('listening')).bearerToken).toBe(true)
    } finally {
      await started.stop()
    }
    const output = [...started.service.stdout, ...started.service.stderr].join('\n')
    expect(output).not.toContain(TOKEN)
    expect(output).not.toContain(WRONG)
    expect(output).toContain('"status":401')
  })

  async function startUp(tokenFileValue: string, run: { uid?: number; gid?: number } = {}) {
    const service = spawnService(
      { PORT: '0', HOST: '127.0.0.1', DB_HOST: '127.0.0.1', AUTH_TOKEN_FILE: tokenFileValue },
      run,
    )
    return { code: await service.exited, stderr: service.stderr, stdout: service.stdout }
  }

  it.each([
    ['missing', async () => join(dir, 'nope'), 'cannot read {file} (no such file)'],
    ['empty', async () => writeTemp('empty', ''), '{file} is empty'],
    [
      'a directory',
      async () => mkdir(join(dir, 'a-dir')).then(() => join(dir, 'a-dir')),
      '{file} is not a regular file',
    ],
    ['too short', async () => writeTemp('short', 'abc123\n'), MUST_HOLD],
    ['two lines', async () => writeTemp('two', `${TOKEN}\n${TOKEN}\n`), MUST_HOLD],
  ])(
    'a token file that is %s stops the start with one line naming AUTH_TOKEN_FILE',
    async (_kind, make, expected) => {
      const file = await make()

      const { code, stderr, stdout } = await startUp(file)

      expect(code).toBe(1)
      expect(stdout).toEqual([])
      expect(stderr).toEqual([
        `ctera-app: invalid configuration: AUTH_TOKEN_FILE: ${expected.replace('{file}', file)}`,
      ])
      expect(stderr.join('')).not.toContain(TOKEN)
    },
  )

  it('names an unreadable token file when run as an unprivileged user', async ({ skip }) => {
    if (process.getuid?.() !== 0) skip('needs root to switch to an unprivileged user')
    if (!readableByNobody(MAIN)) skip('this checkout is not readable by an unprivileged user')
    const locked = await writeTemp('locked', TOKEN, 0o600)

    const { code, stderr } = await startUp(locked, { uid: 65534, gid: 65534 })

    expect(code).toBe(1)
    expect(stderr).toEqual([
      `ctera-app: invalid configuration: AUTH_TOKEN_FILE: cannot read ${locked} (permission denied)`,
    ])
  })

  async function writeTemp(name: string, contents: string, mode = 0o644) {
    const file = join(dir, name)
    await writeFile(file, contents, { mode })
    return file
  }
})
