import { request } from 'node:http'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { connectFrom, firstStatus, loopbackAddress, sampleResident, tally } from '../support/loopback.js'
import { MAIN, PRODUCTION_NODE_FLAGS, startServiceProcess } from '../support/process.js'

// Issue 20's table, rows 1 to 5: each attack on a fresh service process run as `npm start` runs it
// (production flags, NODE_ENV=production), its clients each from a loopback address of their own. "Under
// the ceiling" is the resident peak of the service's process (docs/security.md: 224 MB); "served" is the
// well-behaved client's status and body within the bound. `npm test` runs a fifth of each attack,
// `npm run test:faults` (CTERA_FAULT_SCALE=1) the whole of it, where docs/security.md's figures come from.
const SCALE = Number(process.env.CTERA_FAULT_SCALE ?? '0.2')
const scaled = (count: number) => Math.max(8, Math.round(count * SCALE))
const MAX_RESIDENT_MB = 224
// The bound, at full scale. `npm test` runs beside the other suites on two cores (load average 10
// to 30 here), where the same answers took up to 4 s; before the fixes they took 4 to 10 s, or never came.
const SERVED_WITHIN_MS = SCALE >= 1 ? 1000 : 3000

const postgres = inject('postgres')
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function freshService(env: Record<string, string> = {}) {
  const started = await startServiceProcess(
    postgres.app,
    { NODE_ENV: 'production', ...env },
    { args: [...PRODUCTION_NODE_FLAGS, MAIN] },
  )
  const resident = sampleResident(started.service.child.pid ?? 0)
  const sockets: Socket[] = []
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy()
    resident.stop()
    await started.stop()
  })
  const alive = () => started.service.child.exitCode === null && started.service.child.signalCode === null
  return { port: started.port, resident, sockets, alive }
}

interface Answer {
  status: number | string
  body: string
  ms: number
}

/** One request on a fresh connection from `localAddress`, read to the end. */
function ask(
  port: number,
  localAddress: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const started = performance.now()
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, localAddress, agent: false, method: options.method ?? 'GET' },
      (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }))
        res.on('error', (error) => resolve({ status: error.message, body, ms: performance.now() - started }))
      },
    )
    for (const [name, value] of Object.entries(options.headers ?? {})) req.setHeader(name, value)
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: error.code ?? error.message, body: '', ms: performance.now() - started }),
    )
    const timeoutMs = options.timeoutMs ?? 10_000
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)))
    req.end(options.body)
  })
}

const HEALTH_QUERY = JSON.stringify({ query: '{ health { status } }' })
const postHealth = (port: number, from: string) =>
  ask(port, from, '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(HEALTH_QUERY.length) },
    body: HEALTH_QUERY,
  })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const unique = () => Math.random().toString(36).slice(2, 14)
/** Near-limit documents (test/faults/memory-ceiling.test.ts has the why of each), each one new. */
const nearLimitDocuments = [
  () => `query Q${unique()} { health { ${'healthy '.repeat(990)}} }`,
  () => `query Q${unique()} { health { ${'healthy '.repeat(700)}} }`,
  () => `query Q${unique()} { ${'nope '.repeat(400)}}`,
  () => `# ${unique().repeat(7300)}\nquery Q${unique()} { health { ${'healthy '.repeat(990)}} }`,
]

/** Opens a connection and sends a near-limit POST but its last byte; the socket is left open. */
async function slowNearLimitBody(port: number, from: string, sockets: Socket[]): Promise<void> {
  const socket = await connectFrom(port, from)
  sockets.push(socket)
  const body = JSON.stringify({ query: nearLimitDocuments[3]?.() })
  socket.write(
    `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, -1)}`,
  )
}

/** A subscription over SSE that is never read after its status line. */
async function silentSubscription(port: number, from: string, sockets: Socket[]): Promise<number | 'closed'> {
  const socket = await connectFrom(port, from)
  sockets.push(socket)
  const status = firstStatus(socket)
  socket.write(
    'GET /graphql?query=subscription%7BhealthChanged%7Bstatus%7D%7D HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n',
  )
  const answer = await status
  socket.pause()
  return answer
}

/** Opens `count` connections that send nothing, 500 at a time, each from an address of its own. */
async function idleConnections(port: number, group: number, count: number, sockets: Socket[]): Promise<void> {
  for (let start = 0; start < count; start += 500) {
    const batch = Array.from({ length: Math.min(500, count - start) }, (_, offset) =>
      connectFrom(port, loopbackAddress(group, start + offset)),
    )
    sockets.push(...(await Promise.all(batch)))
  }
}

describe('per-client and per-process budgets (issue 20, rows 1-5)', () => {
  const graphiqlClients = scaled(1000)
  it(`${graphiqlClients} clients GET the largest GraphiQL asset without gzip and never read: under the ceiling, /livez < 1 s`, async () => {
    const service = await freshService()
    const page = await ask(service.port, loopbackAddress(10, 0), '/graphql', {
      headers: { accept: 'text/html' },
      // The first view builds the bundle, in a child process: tens of seconds on a loaded machine.
      timeoutMs: 90_000,
    })
    const asset = /"(\/graphiql\/graphiql\.[^"]+\.js)"/.exec(page.body)?.[1]
    expect(asset, `${page.status} ${page.body.slice(0, 200)}`).toBeDefined()
    const since = performance.now()

    // 100 at a time; each request written, never read (no 'data' listener: the socket stays paused).
    for (let start = 0; start < graphiqlClients; start += 100) {
      const batch = Array.from({ length: Math.min(100, graphiqlClients - start) }, (_, offset) =>
        connectFrom(service.port, loopbackAddress(11, start + offset)),
      )
      for (const socket of await Promise.all(batch)) {
        service.sockets.push(socket)
        socket.write(`GET ${asset} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n`)
      }
    }
    await sleep(2000)
    const livez = await ask(service.port, loopbackAddress(10, 1), '/livez')
    await sleep(500)
    const peak = service.resident.peak(since)
    console.log(
      `client budgets, GraphiQL without gzip: ${graphiqlClients} non-reading clients; resident peak ${peak.mb.toFixed(1)} MB; /livez ${livez.status} in ${livez.ms.toFixed(0)} ms`,
    )

    expect(service.alive()).toBe(true)
    expect(peak.count).toBeGreaterThan(5)
    expect(peak.mb).toBeLessThan(MAX_RESIDENT_MB)
    expect(livez.status).toBe(200)
    expect(livez.ms).toBeLessThan(SERVED_WITHIN_MS)
  }, 120_000)

  const idleSockets = scaled(15_000)
  it(`${idleSockets} idle sockets (no request line) on a fresh process: under the ceiling, /livez < 1 s`, async () => {
    const service = await freshService()
    const since = performance.now()
    await idleConnections(service.port, 20, idleSockets, service.sockets)
    const held = service.sockets.filter((socket) => !socket.destroyed).length
    const livez = await ask(service.port, loopbackAddress(21, 0), '/livez')
    await sleep(500)
    const peak = service.resident.peak(since)
    console.log(
      `client budgets, idle sockets: ${idleSockets} opened, ${held} still open after the last batch; resident peak ${peak.mb.toFixed(1)} MB; /livez ${livez.status} in ${livez.ms.toFixed(0)} ms`,
    )

    expect(service.alive()).toBe(true)
    expect(peak.mb).toBeLessThan(MAX_RESIDENT_MB)
    expect(livez.status).toBe(200)
    expect(livez.ms).toBeLessThan(SERVED_WITHIN_MS)
  }, 180_000)

  const documents = scaled(2100)
  const slowloris = scaled(15_000)
  it(`combined: GraphiQL cold and without gzip, ${documents} near-limit documents, 64 slow bodies, 100 subscriptions, ${slowloris} idle sockets: under the ceiling`, async () => {
    const service = await freshService()
    const since = performance.now()
    const served: Answer[] = []
    let attacking = true
    const wellBehaved = (async () => {
      for (let round = 0; attacking; round++) {
        served.push(await postHealth(service.port, loopbackAddress(60, round % 200)))
        await sleep(250)
      }
    })()

    // First, while the in-flight slots are free: the slow bodies below hold them all until their deadline.
    const subscriptions = await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        silentSubscription(service.port, loopbackAddress(64, index), service.sockets),
      ),
    )
    const graphiql = (async () => {
      const views = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          ask(service.port, loopbackAddress(61, index), '/graphql', {
            headers: { accept: 'text/html' },
            timeoutMs: 90_000,
          }),
        ),
      )
      const assets = [...(views[0]?.body ?? '').matchAll(/"(\/graphiql\/[^"]+)"/g)].map(
        (match) => match[1] ?? '',
      )
      const largest = assets.find((path) => path.startsWith('/graphiql/graphiql.') && path.endsWith('.js'))
      await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          Promise.all(
            assets.map((path) =>
              ask(service.port, loopbackAddress(61, index), path, { headers: { 'accept-encoding': 'gzip' } }),
            ),
          ),
        ),
      )
      for (let index = 0; index < graphiqlClients; index++) {
        const socket = await connectFrom(service.port, loopbackAddress(62, index))
        service.sockets.push(socket)
        socket.write(`GET ${largest} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n`)
      }
    })()
    const slowBodies = Promise.all(
      Array.from({ length: 64 }, (_, index) =>
        slowNearLimitBody(service.port, loopbackAddress(63, index), service.sockets),
      ),
    )
    const idle = idleConnections(service.port, 65, slowloris, service.sockets)
    const statuses: Array<number | string> = []
    const queries = (async () => {
      for (let sent = 0; sent < documents; sent += 8) {
        // A document refused as busy (the slow bodies hold every slot until their deadline) is sent again,
        // so that each one is parsed while the rest of the attack holds its memory.
        const batch = Array.from({ length: Math.min(8, documents - sent) }, async (_, offset) => {
          const query = nearLimitDocuments[(sent + offset) % nearLimitDocuments.length]?.() ?? ''
          const body = JSON.stringify({ query })
          for (let tries = 1; ; tries++) {
            const answer = await ask(service.port, loopbackAddress(66, (sent + offset) % 64), '/graphql', {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'content-length': String(Buffer.byteLength(body)),
              },
              body,
            })
            if (answer.status !== 503 || tries >= 100) return answer
            await sleep(250)
          }
        })
        statuses.push(...(await Promise.all(batch)).map((answer) => answer.status))
      }
    })()
    await Promise.all([graphiql, slowBodies, idle, queries])
    const livez = await ask(service.port, loopbackAddress(67, 0), '/livez')
    attacking = false
    await wellBehaved
    await sleep(300)
    const peak = service.resident.peak(since)
    const slowest = Math.max(...served.map((answer) => answer.ms))
    console.log(
      `client budgets, combined: documents ${tally(statuses)}; subscriptions ${tally(subscriptions)}; resident peak ${peak.mb.toFixed(1)} MB; /livez ${livez.status} in ${livez.ms.toFixed(0)} ms; well-behaved client ${tally(served.map((answer) => answer.status))}, slowest ${slowest.toFixed(0)} ms`,
    )

    expect(service.alive()).toBe(true)
    expect(peak.mb).toBeLessThan(MAX_RESIDENT_MB)
    expect(livez.status).toBe(200)
    expect(livez.ms).toBeLessThan(SERVED_WITHIN_MS)
    expect(subscriptions).toEqual(Array(100).fill(200))
    // 64 slow bodies from 64 addresses hold every in-flight slot until their deadline (10 s): a clean
    // 503 SERVER_BUSY meanwhile, never a hang or a reset (docs/security.md: a share per client cannot
    // tell 64 attackers from 64 clients).
    expect(served.length).toBeGreaterThan(0)
    for (const answer of served) {
      // The database check keeps its own 2 s deadline, which the attack's load on two cores can exceed:
      // then the answer, a whole one, says so.
      if (answer.status === 200)
        expect(['Healthy!', 'Unhealthy']).toContain(JSON.parse(answer.body).data.health.status)
      else expect([answer.status, answer.body]).toEqual([503, expect.stringContaining('SERVER_BUSY')])
    }
  }, 600_000)

  it('costs per idle socket, slow body and stream, measured, times their bounds, fit the ceiling', async () => {
    // Each on a fresh process: resident memory never shrinks, so a second phase would reuse the first's.
    const settle = () => sleep(1500)
    const measureEach = async (
      count: number,
      open: (port: number, sockets: Socket[]) => Promise<unknown>,
    ) => {
      const service = await freshService({ CLIENT_MAX_SHARE_PERCENT: '100' })
      await ask(service.port, loopbackAddress(70, 0), '/health')
      await settle()
      const before = service.resident.now()
      await open(service.port, service.sockets)
      await settle()
      const after = service.resident.now()
      return { before, perEachKb: ((after - before) * 1024) / count }
    }
    const idle = await measureEach(2000, (port, sockets) => idleConnections(port, 71, 2000, sockets))
    const bodies = await measureEach(64, (port, sockets) =>
      Promise.all(
        Array.from({ length: 64 }, (_, index) =>
          slowNearLimitBody(port, loopbackAddress(72, index), sockets),
        ),
      ),
    )
    const streams = await measureEach(100, (port, sockets) =>
      Promise.all(
        Array.from({ length: 100 }, (_, index) =>
          silentSubscription(port, loopbackAddress(73, index), sockets),
        ),
      ),
    )
    const startMb = Math.max(idle.before, bodies.before, streams.before)
    const worstMb = startMb + (2000 * idle.perEachKb + 64 * bodies.perEachKb + 100 * streams.perEachKb) / 1024
    console.log(
      `client budgets, costs: resident at start ${startMb.toFixed(1)} MB; ${idle.perEachKb.toFixed(1)} KB per idle socket, ${bodies.perEachKb.toFixed(1)} KB per slow near-limit body, ${streams.perEachKb.toFixed(1)} KB per stream; start + 2,000 sockets + 64 bodies + 100 streams = ${worstMb.toFixed(1)} MB`,
    )

    expect(worstMb).toBeLessThan(MAX_RESIDENT_MB)
  }, 180_000)

  it('64 sockets from one client trickle a 200-byte GraphQL body (a byte every 2 s): other clients are served within 1 s', async () => {
    const service = await freshService()
    const attacker = loopbackAddress(40, 0)
    const statuses: Array<number | string> = []
    let attacking = true
    const body = JSON.stringify({ query: `{ health { status } } #${'x'.repeat(200)}` }).slice(0, 200)
    // The attacker reconnects whenever a socket is refused or cut, for as long as the test runs.
    const trickler = async () => {
      while (attacking) {
        const socket = await connectFrom(service.port, attacker)
        service.sockets.push(socket)
        const status = firstStatus(socket)
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        )
        let sent = 0
        const timer = setInterval(() => {
          if (!socket.destroyed && sent < body.length) socket.write(body[sent++] ?? '')
        }, 2000)
        statuses.push(await status)
        clearInterval(timer)
        socket.destroy()
        await sleep(50)
      }
    }
    const attack = Array.from({ length: 64 }, () => trickler())
    await sleep(1000)

    // Twelve seconds of a well-behaved client, past the body deadline (10 s) and the attacker's reconnects.
    const answers: Answer[] = []
    for (let round = 0; round < 24; round++) {
      answers.push(await postHealth(service.port, loopbackAddress(41, round)))
      await sleep(500)
    }
    attacking = false
    for (const socket of service.sockets) socket.destroy()
    await Promise.all(attack)
    const slowest = Math.max(...answers.map((answer) => answer.ms))
    console.log(
      `client budgets, slow bodies: attacker's answers ${tally(statuses)}; well-behaved client ${tally(answers.map((answer) => answer.status))}, slowest ${slowest.toFixed(0)} ms`,
    )

    for (const answer of answers) {
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toEqual({ data: { health: { status: 'Healthy!' } } })
    }
    expect(slowest).toBeLessThan(SERVED_WITHIN_MS)
    expect(statuses).toContain(429)
  }, 120_000)

  it('100 SSE subscriptions from one client that never read: another client can still subscribe', async () => {
    const service = await freshService()
    const greedy = await Promise.all(
      Array.from({ length: 100 }, () =>
        silentSubscription(service.port, loopbackAddress(50, 0), service.sockets),
      ),
    )

    const other = await new Promise<{ status: number; first: string; ms: number }>((resolve, reject) => {
      const started = performance.now()
      const req = request(
        {
          host: '127.0.0.1',
          port: service.port,
          localAddress: loopbackAddress(51, 0),
          agent: false,
          path: '/graphql?query=subscription%7BhealthChanged%7Bstatus%7D%7D',
          headers: { accept: 'text/event-stream' },
        },
        (res) => {
          let text = ''
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8')
            if (/event: next\ndata: .*\n\n/.test(text)) {
              resolve({ status: res.statusCode ?? 0, first: text, ms: performance.now() - started })
              req.destroy()
            }
          })
        },
      )
      req.on('error', reject)
      req.end()
    })
    console.log(
      `client budgets, subscriptions: one client's 100 got ${tally(greedy)}; another client ${other.status}, first event in ${other.ms.toFixed(0)} ms`,
    )

    expect(greedy.filter((status) => status === 200)).toHaveLength(25)
    expect(greedy.filter((status) => status === 429)).toHaveLength(75)
    expect(other.status).toBe(200)
    expect(other.first).toContain('"status":"Healthy!"')
    expect(other.ms).toBeLessThan(SERVED_WITHIN_MS)
  }, 60_000)
})
