/**
 * npm run bench:tracing: what tracing costs. The compiled service (dist/main.js) under autocannon, with
 * tracing off (the default), on with nothing sampled, and on with every request sampled (spans POSTed to a
 * local receiver that discards them). `--baseline DIR` adds the dist/main.js of another checkout, built
 * without the tracing code, to show that "off" costs nothing. Variants take turns, round after round, so
 * a slow moment of the shared machine does not land on one of them. `--smoke` runs it briefly.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { resolve } from 'node:path'
import autocannon from 'autocannon'
import { findFreePort } from '../src/net/free-port.js'
import { startMeasuredPostgres } from './postgres.js'
import { productionNodeFlags, serviceEnv } from './service-process.js'

const smoke = process.argv.includes('--smoke')
const baselineIndex = process.argv.indexOf('--baseline')
const baseline = baselineIndex > 0 ? resolve(process.argv[baselineIndex + 1] ?? '') : undefined
const SECONDS = smoke ? 0.5 : 5
const ROUNDS = smoke ? 1 : 5
const CONNECTIONS = 16
// CPU time per request, from the kernel's account of the service process: far steadier than requests per
// second on a machine that other work shares (throughput moves with every neighbour, CPU per request hardly).
const CLOCK_TICKS_PER_SECOND =
  Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
}

interface Variant {
  name: string
  main: string
  env: Record<string, string>
}

async function main() {
  const postgres = await startMeasuredPostgres('bench-tracing')
  const receiver = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
  })
  await new Promise<void>((ready) => receiver.listen(0, '127.0.0.1', ready))
  const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`
  const ours = resolve(import.meta.dirname, '../dist/main.js')
  const variants: Variant[] = [
    ...(baseline
      ? [{ name: 'without tracing code (baseline)', main: resolve(baseline, 'dist/main.js'), env: {} }]
      : []),
    { name: 'tracing off (default)', main: ours, env: {} },
    {
      name: 'tracing on, nothing sampled',
      main: ours,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_off' },
    },
    {
      name: 'tracing on, every request sampled',
      main: ours,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_on' },
    },
  ]
  const requests = [
    { name: 'GET /livez', path: '/livez' },
    {
      name: 'POST /graphql { numberOfTables }',
      path: '/graphql',
      method: 'POST' as const,
      body: JSON.stringify({ query: '{ numberOfTables }' }),
    },
  ]
  const results = new Map<string, Array<{ perSecond: number; cpuMicroseconds: number }>>()
  // The flags of `npm start`: the heap sizes decide how often the collector runs, so they must match.
  const flags = await productionNodeFlags()
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of variants) {
        const port = await findFreePort()
        const child = spawn(process.execPath, [...flags, variant.main], {
          env: serviceEnv(postgres.app, postgres.passwordFile, port, variant.env),
          // The request log goes nowhere, as the same lines would to a log shipper: written, not read here.
          stdio: ['ignore', 'ignore', 'inherit'],
        })
        await waitUntilAnswering(port, child)
        for (const request of requests) {
          const url = `http://127.0.0.1:${port}${request.path}`
          const run = (duration: number) =>
            autocannon({
              url,
              connections: CONNECTIONS,
              duration,
              method: request.method ?? 'GET',
              body: request.body,
              headers: request.body ? { 'content-type': 'application/json' } : undefined,
            })
          if (!smoke) await run(1)
          const cpuBefore = cpuSeconds(child.pid ?? 0)
          const result = await run(SECONDS)
          const cpuMicroseconds = ((cpuSeconds(child.pid ?? 0) - cpuBefore) / result.requests.total) * 1e6
          if (result.non2xx + result.errors > 0) throw new Error(`${variant.name} ${request.name}: errors`)
          const key = `${request.name}|${variant.name}`
          const sample = { perSecond: result.requests.average, cpuMicroseconds }
          results.set(key, [...(results.get(key) ?? []), sample])
          process.stderr.write(
            `bench: round ${round + 1} ${variant.name}, ${request.name}: ${sample.perSecond} req/s, ${cpuMicroseconds.toFixed(1)} µs CPU/request\n`,
          )
        }
        const exited = new Promise((done) => child.once('exit', done))
        child.kill('SIGTERM')
        await exited
      }
    }
  } finally {
    receiver.close()
    await postgres.stop()
  }

  const lines = [
    `| request (${CONNECTIONS} connections) | variant | service CPU per request (median of ${ROUNDS}) | vs off | req/s (median) |`,
    '| --- | --- | --- | --- | --- |',
  ]
  for (const request of requests) {
    const of = (variant: string) => results.get(`${request.name}|${variant}`) ?? []
    const off = median(of('tracing off (default)').map((sample) => sample.cpuMicroseconds))
    for (const variant of variants) {
      const cpu = median(of(variant.name).map((sample) => sample.cpuMicroseconds))
      const perSecond = median(of(variant.name).map((sample) => sample.perSecond))
      lines.push(
        `| ${request.name} | ${variant.name} | ${cpu.toFixed(1)} µs | ${signed((cpu / off - 1) * 100)} | ${Math.round(perSecond)} |`,
      )
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

async function waitUntilAnswering(port: number, child: ChildProcess) {
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error('the service exited before answering')
    const answered = await fetch(`http://127.0.0.1:${port}/livez`).then(
      () => true,
      () => false,
    )
    if (answered) return
    if (Date.now() > deadline) throw new Error('the service did not answer in 30 s')
    await new Promise((wait) => setTimeout(wait, 100))
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

function signed(percent: number): string {
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)} %`
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
