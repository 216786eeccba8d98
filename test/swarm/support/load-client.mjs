// The load client of `npm run test:swarm`. It runs inside a container on the stack's overlay network (this
// sandbox has no routing mesh) and does what a client of a dnsrr service does: resolves the service's name to
// its tasks' addresses, spreads requests over them, and retries a failed request once on another address.
// Workers loop over GET /health, GET /number_of_tables and a GraphQL query until stdin closes, then finish the
// requests in flight and exit. Every request is one JSON line on stdout, for the test to cut into steps:
//   {"t":<start, ms since epoch>,"ms":<duration>,"path":"/health","addr":"10.0.3.4","status":200,
//    "replica":"<task name from /health>","retry":{"addr":…,"status":…}}   (error instead of status on failure)
import { lookup } from 'node:dns/promises'
import { Agent, request } from 'node:http'

const TARGET = process.env.TARGET ?? 'ctera-app'
const WORKERS = Number(process.env.WORKERS ?? 3)
const PAUSE_MS = Number(process.env.PAUSE_MS ?? 60)
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS ?? 3000)
// An address that failed is left out this long (unless it is the only one), as a client-side load balancer's
// outlier detection does: one lost request per worker when a task dies, not one per round.
const SUSPECT_MS = Number(process.env.SUSPECT_MS ?? 5000)
const GRAPHQL = JSON.stringify({ query: '{ health { healthy status } numberOfTables }' })
const REQUESTS = [
  { path: '/health', method: 'GET' },
  { path: '/number_of_tables', method: 'GET' },
  { path: '/graphql', method: 'POST', body: GRAPHQL },
]

const agent = new Agent({ keepAlive: true, maxSockets: WORKERS })
let addresses = []
const suspectUntil = new Map()
let stopping = false
let turn = 0

// Swarm's DNS lists the healthy tasks; a lookup that fails (dockerd's resolver times out on a loaded machine)
// keeps the last answer, as a caching resolver would, rather than leave the client with no address at all.
async function resolveAddresses() {
  try {
    const found = await lookup(TARGET, { all: true, family: 4 })
    if (found.length > 0) addresses = found.map((entry) => entry.address).sort()
  } catch {
    // the last answer stays
  }
}

/** One lookup at a time, 250 ms apart, until the workers stop. */
async function keepResolving() {
  while (!stopping) {
    await resolveAddresses()
    await new Promise((wait) => setTimeout(wait, 250))
  }
}

function pickAddress(except) {
  const now = Date.now()
  const healthy = addresses.filter((a) => a !== except && (suspectUntil.get(a) ?? 0) <= now)
  const pool = healthy.length > 0 ? healthy : addresses.filter((a) => a !== except)
  if (pool.length === 0) return undefined
  turn += 1
  return pool[turn % pool.length]
}

function send(address, spec) {
  return new Promise((resolveSend) => {
    const headers = spec.body
      ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) }
      : {}
    const req = request(
      {
        host: address,
        port: 5001,
        path: spec.path,
        method: spec.method,
        headers,
        agent,
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks = []
        res.on('data', (chunk) => chunks.push(chunk))
        res.on('end', () => resolveSend({ status: res.statusCode, body: Buffer.concat(chunks).toString() }))
        res.on('error', (error) => resolveSend({ error: error.code ?? error.message }))
      },
    )
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })))
    req.on('error', (error) => resolveSend({ error: error.code ?? error.message }))
    req.end(spec.body)
  })
}

const failed = (outcome) => outcome.error !== undefined || outcome.status >= 500

function outcomeOf(address, result) {
  const outcome = { addr: address }
  if (result.error !== undefined) outcome.error = result.error
  else outcome.status = result.status
  return outcome
}

async function once(spec) {
  const t = Date.now()
  const address = pickAddress()
  if (address === undefined) return { t, ms: 0, path: spec.path, error: 'NO_ADDRESS' }
  const result = await send(address, spec)
  const line = { t, path: spec.path, ...outcomeOf(address, result) }
  if (spec.path === '/health' && result.body) {
    line.replica = /"container":"([^"]+)"/.exec(result.body)?.[1]
  }
  if (failed(line)) {
    if (result.error !== undefined) suspectUntil.set(address, Date.now() + SUSPECT_MS)
    const other = pickAddress(address)
    if (other !== undefined) line.retry = outcomeOf(other, await send(other, spec))
  }
  line.ms = Date.now() - t
  return line
}

async function worker(index) {
  let n = index
  while (!stopping) {
    const line = await once(REQUESTS[n % REQUESTS.length])
    process.stdout.write(`${JSON.stringify(line)}\n`)
    n += 1
    await new Promise((wait) => setTimeout(wait, PAUSE_MS))
  }
}

await resolveAddresses()
const resolving = keepResolving()
process.stdin.resume()
process.stdin.on('end', () => {
  stopping = true
})
await Promise.all(Array.from({ length: WORKERS }, (_, index) => worker(index)))
await resolving
agent.destroy()
process.stdout.write(`${JSON.stringify({ done: true })}\n`)
