/**
 * GraphQL health (`{ health { status } }`) on the service and on its peers, taking turns in each round:
 * requests per second and, steadier on a shared machine, the CPU time each server's process spent per
 * request (user + system from /proc/PID/stat, over a fixed number of requests). bench/run.ts calls it.
 */
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import autocannon from 'autocannon'
import { type Spread, spread } from './stats.js'

export interface GraphqlServer {
  name: string
  url: string
  pid: number
}

export interface PeerRow {
  name: string
  requestsPerSecond: Spread
  cpuMicrosPerRequest: Spread
  /** This server's req/s ÷ the first server's, per round. */
  ratio: Spread
  /** CPU µs per request of the first server ÷ this server's, per round: above 1 means cheaper than it. */
  cpuRatio: Spread
  failures: number
}

export interface PeerOptions {
  rounds: number
  /** Requests per measurement, the same for every server. */
  requests: number
  connections: number
  warmUpRequests: number
}

const BODY = JSON.stringify({ query: '{ health { status } }' })
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100

/** utime + stime of a process, in microseconds. */
export async function cpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in brackets and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND
}

async function run(url: string, amount: number, connections: number) {
  const started = performance.now()
  const result = await autocannon({
    url: `${url}/graphql`,
    connections,
    amount,
    method: 'POST',
    body: BODY,
    headers: { 'content-type': 'application/json' },
  })
  const seconds = (performance.now() - started) / 1000
  return {
    requests: result.requests.total,
    seconds,
    failures: result.errors + result.timeouts + result.non2xx,
  }
}

async function measureOne(server: GraphqlServer, options: PeerOptions) {
  await run(server.url, options.warmUpRequests, options.connections)
  const before = await cpuMicros(server.pid)
  const result = await run(server.url, options.requests, options.connections)
  const cpu = (await cpuMicros(server.pid)) - before
  return {
    requestsPerSecond: result.requests / result.seconds,
    cpuMicrosPerRequest: cpu / Math.max(result.requests, 1),
    failures: result.failures,
  }
}

/** Each round runs every server once, starting one server later than the round before. */
export async function measureGraphqlPeers(
  servers: GraphqlServer[],
  options: PeerOptions,
  log: (message: string) => void,
): Promise<{ rows: PeerRow[]; loadAverages: number[] }> {
  const results = servers.map(() => [] as Array<Awaited<ReturnType<typeof measureOne>>>)
  const loadAverages: number[] = []
  for (let round = 0; round < options.rounds; round++) {
    for (let turn = 0; turn < servers.length; turn++) {
      const index = (turn + round) % servers.length
      const server = servers[index] as GraphqlServer
      const measured = await measureOne(server, options)
      results[index]?.push(measured)
      log(
        `round ${round + 1}, ${server.name}: ${Math.round(measured.requestsPerSecond)} req/s, ${Math.round(measured.cpuMicrosPerRequest)} µs CPU per request (load ${loadavg()[0]?.toFixed(1)})`,
      )
    }
    loadAverages.push(loadavg()[0] ?? 0)
  }
  const first = results[0] ?? []
  const rows = servers.map((server, index) => {
    const own = results[index] ?? []
    return {
      name: server.name,
      requestsPerSecond: spread(own.map((one) => one.requestsPerSecond)),
      cpuMicrosPerRequest: spread(own.map((one) => one.cpuMicrosPerRequest)),
      ratio: spread(own.map((one, round) => one.requestsPerSecond / (first[round]?.requestsPerSecond ?? 1))),
      cpuRatio: spread(
        own.map(
          (one, round) => (first[round]?.cpuMicrosPerRequest ?? 0) / Math.max(one.cpuMicrosPerRequest, 1e-9),
        ),
      ),
      failures: own.reduce((sum, one) => sum + one.failures, 0),
    }
  })
  return { rows, loadAverages }
}
