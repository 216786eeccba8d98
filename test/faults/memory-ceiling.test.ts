import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { MAIN, type ServiceProcess, startServiceProcess } from '../support/process.js'

// The ceiling docs/security.md promises for the heap cap of `npm start` and the image.
const HEAP_CAP_MB = 128
const MAX_HEAP_USED_MB = 96
const MAX_RESIDENT_MB = 200

const postgres = inject('postgres')
let service: ServiceProcess
let port: number
let stop: () => Promise<void>

beforeAll(async () => {
  ;({ service, port, stop } = await startServiceProcess(
    postgres.app,
    {},
    { args: [`--max-old-space-size=${HEAP_CAP_MB}`, MAIN] },
  ))
}, 60_000)
afterAll(() => stop?.())

const running = () => service.child.exitCode === null && service.child.signalCode === null
const unique = () => randomBytes(6).toString('hex')

/** Documents just under the limits, each one new, so that any cache keyed on the text misses every time. */
const attacks: Record<string, { count: number; document: () => string }> = {
  // 996 tokens, refused by the cost limit while validating.
  'near-limit query of 990 fields': {
    count: 1000,
    document: () => `query Q${unique()} { health { ${'healthy '.repeat(990)}} }`,
  },
  // 706 tokens, within every limit: parsed, validated and run.
  'valid query of 700 fields': {
    count: 1000,
    document: () => `query Q${unique()} { health { ${'healthy '.repeat(700)}} }`,
  },
  // Each unknown field is a validation error of its own.
  '400 unknown fields': {
    count: 500,
    document: () => `query Q${unique()} { ${'nope '.repeat(400)}}`,
  },
  // A comment is no token: the text can grow to the body limit while the token count stays under it.
  '95 KB of comment around a near-limit query': {
    count: 500,
    document: () => `# ${unique().repeat(7300)}\nquery Q${unique()} { health { ${'healthy '.repeat(990)}} }`,
  },
  // Refused while parsing (token limit): parse errors are cached too.
  '95 KB document over the token limit': {
    count: 500,
    document: () => `# ${unique().repeat(7500)}\n{ ${'healthy '.repeat(1100)}}`,
  },
}

async function post(document: string): Promise<number | string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: document }),
    })
    await response.arrayBuffer()
    return response.status
  } catch (error) {
    return (error as Error).message
  }
}

interface Sample {
  heapUsedMb: number
  residentMb: number
}

async function sample(pid: number): Promise<Sample | undefined> {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const residentKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    const heapUsed = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1] ?? Number.NaN)
    return { heapUsedMb: heapUsed / 2 ** 20, residentMb: residentKb / 1024 }
  } catch {
    return undefined
  }
}

describe('memory under unique near-limit documents', () => {
  it(`stays under ${MAX_HEAP_USED_MB} MB of heap and ${MAX_RESIDENT_MB} MB resident, and keeps answering`, async () => {
    const pid = service.child.pid ?? 0
    const samples: Sample[] = []
    let attacking = true
    const sampler = (async () => {
      while (attacking && running()) {
        const taken = await sample(pid)
        if (taken) samples.push(taken)
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    })()

    const outcomes = new Map<string, Map<string, number>>()
    const started = performance.now()
    for (const [kind, attack] of Object.entries(attacks)) {
      const counts = new Map<string, number>()
      outcomes.set(kind, counts)
      // 8 at a time, bounded.
      for (let sent = 0; sent < attack.count && running(); sent += 8) {
        const batch = Math.min(8, attack.count - sent)
        const statuses = await Promise.all(Array.from({ length: batch }, () => post(attack.document())))
        for (const status of statuses) counts.set(String(status), (counts.get(String(status)) ?? 0) + 1)
      }
    }
    const seconds = (performance.now() - started) / 1000
    const after = await sample(pid)
    attacking = false
    await sampler
    const health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined)

    const peakHeap = Math.max(...samples.map((each) => each.heapUsedMb))
    const peakResident = Math.max(...samples.map((each) => each.residentMb))
    console.log(
      `memory ceiling: ${[...outcomes]
        .map(([kind, counts]) => `${kind}: ${[...counts].map(([status, n]) => `${n}x ${status}`).join(', ')}`)
        .join('; ')} in ${seconds.toFixed(1)} s; ${samples.length} samples: heap used peak ` +
        `${peakHeap.toFixed(1)} MB, resident peak ${peakResident.toFixed(1)} MB; after: heap ` +
        `${after?.heapUsedMb.toFixed(1)} MB, resident ${after?.residentMb.toFixed(1)} MB; exit ${service.child.exitCode ?? service.child.signalCode}`,
    )

    expect(running()).toBe(true)
    expect(health?.status).toBe(200)
    expect(samples.length).toBeGreaterThan(10)
    expect(peakHeap).toBeLessThan(MAX_HEAP_USED_MB)
    expect(peakResident).toBeLessThan(MAX_RESIDENT_MB)
    for (const [kind, counts] of outcomes) {
      const answered = [...counts].filter(([status]) => /^\d{3}$/.test(status)).reduce((n, [, c]) => n + c, 0)
      expect(answered, kind).toBe(attacks[kind]?.count)
    }
  }, 300_000)
})
