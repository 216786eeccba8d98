/**
 * The capacity simulation behind CAPACITY.md: N service processes on this machine (1, 2, 4, 8) against one
 * PostgreSQL, each under the same load (Kubernetes-style probes on /livez and /readyz, plus a steady stream of
 * /number_of_tables), recording what the database sees: probe queries per second and connections in use.
 *
 *   npm run capacity              all N, 10 s each; rewrites the table in CAPACITY.md
 *   npm run capacity -- --short   N = 1 and 2, 3 s each; prints the table (CI runs this)
 *
 * It prints JSON lines (one per N) on stdout, the table on stderr, and exits 1 when a figure is off the plan.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import autocannon from 'autocannon'
import type pg from 'pg'
import { findFreePort } from '../src/net/free-port.js'
import { healthQueryCount, startMeasuredPostgres } from './postgres.js'
import { productionNodeFlags, serviceEnv } from './service-process.js'

const ROOT = resolve(import.meta.dirname, '..')
const short = process.argv.includes('--short')
const REPLICAS = short ? [1, 2] : [1, 2, 4, 8]
const WINDOW_SECONDS = short ? 3 : 10
const INTERVAL_MS = 1000 // HEALTH_INTERVAL_MS: short, so that a few seconds hold enough checks to count
const POOL_MAX = 5 // DB_POOL_MAX
const TABLE_CONCURRENCY = 3 // concurrent /number_of_tables requests per replica
const PROBES_PER_SECOND = 20 // per replica, on each of /livez and /readyz

export interface Row {
  replicas: number
  probeRequestsPerSecond: number
  probeQueriesPerSecond: number
  plannedProbeQueriesPerSecond: number
  tableRequestsPerSecond: number
  connections: number
  plannedConnections: number
}

async function startReplica(env: Record<string, string>): Promise<ChildProcess> {
  // Each replica as `npm start` and the image run it, heap flags included.
  const child = spawn(process.execPath, [...(await productionNodeFlags()), resolve(ROOT, 'dist/main.js')], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolveStart, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('"msg":"listening"')) resolveStart(child)
    })
    child.once('exit', () => reject(new Error('a replica exited during start-up')))
  })
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit))
  child.kill('SIGTERM')
  await exited
}

/** Requests at a fixed rate for `seconds`, like a kubelet's probes; returns how many were answered. */
async function probeAtRate(url: string, perSecond: number, seconds: number): Promise<number> {
  let answered = 0
  const pending: Promise<void>[] = []
  const timer = setInterval(() => {
    pending.push(
      fetch(url).then(
        async (response) => {
          await response.arrayBuffer()
          answered++
        },
        () => undefined,
      ),
    )
  }, 1000 / perSecond)
  await new Promise((wait) => setTimeout(wait, seconds * 1000))
  clearInterval(timer)
  await Promise.all(pending)
  return answered
}

async function measure(
  admin: pg.Client,
  replicas: number,
  env: (port: number) => Record<string, string>,
): Promise<Row> {
  const ports = await Promise.all(Array.from({ length: replicas }, () => findFreePort()))
  const children = await Promise.all(ports.map((port) => startReplica(env(port))))
  try {
    await new Promise((wait) => setTimeout(wait, 1500)) // first checks done, pools warm
    await admin.query('SELECT pg_stat_statements_reset()')
    let peakConnections = 0
    const sampler = setInterval(() => {
      admin
        .query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'ctera-app'")
        .then((result) => (peakConnections = Math.max(peakConnections, result.rows[0].n)))
        .catch(() => undefined)
    }, 250)
    const started = performance.now()
    const [probes, tables] = await Promise.all([
      Promise.all(
        ports.flatMap((port) => [
          probeAtRate(`http://127.0.0.1:${port}/livez`, PROBES_PER_SECOND, WINDOW_SECONDS),
          probeAtRate(`http://127.0.0.1:${port}/readyz`, PROBES_PER_SECOND, WINDOW_SECONDS),
        ]),
      ),
      Promise.all(
        ports.map((port) =>
          autocannon({
            url: `http://127.0.0.1:${port}/number_of_tables`,
            connections: TABLE_CONCURRENCY,
            duration: WINDOW_SECONDS,
          }),
        ),
      ),
    ])
    const seconds = (performance.now() - started) / 1000
    clearInterval(sampler)
    const calls = await healthQueryCount(admin)
    return {
      replicas,
      probeRequestsPerSecond: probes.reduce((sum, count) => sum + count, 0) / seconds,
      probeQueriesPerSecond: calls / seconds,
      plannedProbeQueriesPerSecond: replicas / (INTERVAL_MS / 1000),
      tableRequestsPerSecond: tables.reduce((sum, result) => sum + result.requests.average, 0),
      connections: peakConnections,
      plannedConnections: replicas * (Math.min(POOL_MAX, TABLE_CONCURRENCY) + 1),
    }
  } finally {
    await Promise.all(children.map(stop))
  }
}

/** On plan: probe queries within ±50% of replicas ÷ interval (timing jitter), connections never above the plan. */
export function onPlan(row: Row): boolean {
  const ratio = row.probeQueriesPerSecond / row.plannedProbeQueriesPerSecond
  return ratio >= 0.5 && ratio <= 1.5 && row.connections <= row.plannedConnections
}

export function table(rows: Row[]): string {
  const fmt = (value: number, digits = 1) => value.toFixed(digits)
  return [
    '| replicas | probe requests/s | probe queries/s (planned) | /number_of_tables req/s | connections in use (planned max) | on plan |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.replicas} | ${fmt(row.probeRequestsPerSecond, 0)} | ${fmt(row.probeQueriesPerSecond)} (${fmt(row.plannedProbeQueriesPerSecond)}) | ${fmt(row.tableRequestsPerSecond, 0)} | ${row.connections} (${row.plannedConnections}) | ${onPlan(row) ? 'yes' : '**no**'} |`,
    ),
  ].join('\n')
}

async function main(): Promise<void> {
  const postgres = await startMeasuredPostgres('capacity')
  const { admin } = postgres
  const rows: Row[] = []
  try {
    const env = (port: number) =>
      serviceEnv(postgres.app, postgres.passwordFile, port, {
        DB_POOL_MAX: String(POOL_MAX),
        HEALTH_INTERVAL_MS: String(INTERVAL_MS),
        LOG_LEVEL: 'info', // start-up waits for the 'listening' line
      })
    for (const replicas of REPLICAS) {
      process.stderr.write(`capacity: ${replicas} replica(s), ${WINDOW_SECONDS} s\n`)
      const row = await measure(admin, replicas, env)
      rows.push(row)
      process.stdout.write(`${JSON.stringify(row)}\n`)
    }
  } finally {
    await postgres.stop()
  }

  const markdown = table(rows)
  process.stderr.write(`${markdown}\n`)
  if (!short) {
    const file = resolve(ROOT, 'CAPACITY.md')
    const text = await readFile(file, 'utf8')
    const replaced = text.replace(
      /<!-- simulation:start -->[\s\S]*<!-- simulation:end -->/,
      `<!-- simulation:start -->\n${markdown}\n\nMeasured ${new Date().toISOString().slice(0, 10)} by \`npm run capacity\` on this project's 2-core test machine: each replica with DB_POOL_MAX=${POOL_MAX}, HEALTH_INTERVAL_MS=${INTERVAL_MS}, ${PROBES_PER_SECOND} probes/s on each of /livez and /readyz, and ${TABLE_CONCURRENCY} concurrent /number_of_tables clients, for ${WINDOW_SECONDS} s.\n<!-- simulation:end -->`,
    )
    await writeFile(file, replaced)
  }
  if (!rows.every(onPlan)) process.exit(1)
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    process.stderr.write(`capacity: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
