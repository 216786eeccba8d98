/**
 * One lever at a time: several builds of the service (each a checkout with its own `dist/`), or the same
 * build with other environment variables, under the same GraphQL load, taking turns in each round; prints
 * each one's CPU µs per request (user + system of its process, /proc/PID/stat) and the ratio to the first.
 *
 *   npm run build && tsx bench/levers.ts 5 20000 branch=. main=/tmp/main without-log=.:LOG_LEVEL=warn
 *
 * A build directory needs `dist/main.js` and a `node_modules` (a symlink to this one's will do).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import autocannon from 'autocannon'
import { findFreePort } from '../src/net/free-port.js'
import { cpuMicros } from './graphql-peers.js'
import { startMeasuredPostgres } from './postgres.js'
import { productionNodeFlags, serviceEnv } from './service-process.js'
import { median } from './stats.js'

const [rounds = '5', requests = '20000', ...specs] = process.argv.slice(2)
const BODY = JSON.stringify({ query: '{ health { status } }' })

interface Variant {
  name: string
  child: ChildProcess
  url: string
  cpu: number[]
}

const run = (url: string, amount: number) =>
  autocannon({
    url,
    connections: 64,
    amount,
    method: 'POST',
    body: BODY,
    headers: { 'content-type': 'application/json' },
  })

const postgres = await startMeasuredPostgres('levers')
const variants: Variant[] = []
try {
  const flags = await productionNodeFlags()
  for (const spec of specs) {
    const [name = '', where = ''] = spec.split(/=(.*)/s)
    const [directory = '.', ...assignments] = where.split(':')
    const extra = Object.fromEntries(assignments.map((assignment) => assignment.split(/=(.*)/s)))
    const port = await findFreePort()
    const child = spawn(process.execPath, [...flags, resolve(directory, 'dist/main.js')], {
      env: serviceEnv(postgres.app, postgres.passwordFile, port, extra),
      stdio: 'ignore',
    })
    variants.push({ name, child, url: `http://127.0.0.1:${port}/graphql`, cpu: [] })
  }
  await new Promise((ready) => setTimeout(ready, 5000))
  for (let round = 0; round < Number(rounds); round++) {
    for (let turn = 0; turn < variants.length; turn++) {
      const variant = variants[(turn + round) % variants.length] as Variant
      const pid = variant.child.pid ?? 0
      await run(variant.url, 3000)
      const before = await cpuMicros(pid)
      const result = await run(variant.url, Number(requests))
      variant.cpu.push(((await cpuMicros(pid)) - before) / result.requests.total)
      process.stderr.write(
        `round ${round + 1}, ${variant.name}: ${variant.cpu.at(-1)?.toFixed(0)} µs (load ${loadavg()[0]?.toFixed(1)}, failed ${result.non2xx + result.errors})\n`,
      )
    }
  }
  const first = median(variants[0]?.cpu ?? [])
  for (const variant of variants) {
    const own = median(variant.cpu)
    process.stdout.write(
      `| ${variant.name} | ${own.toFixed(0)} (${variant.cpu.map((value) => value.toFixed(0)).join(', ')}) | ${(first / own).toFixed(2)} |\n`,
    )
  }
} finally {
  for (const variant of variants) variant.child.kill('SIGTERM')
  await postgres.stop()
}
