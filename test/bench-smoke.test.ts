import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

// The benchmark's short smoke mode: it proves `npm run bench` works end to end. It asserts no speed
// (this machine is shared and noisy); the figures come from a full `npm run bench`.
const ROOT = resolve(import.meta.dirname, '..')

describe('npm run bench -- --smoke', () => {
  it('runs every step and writes every section of BENCHMARKS.md', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'bench-')), 'BENCHMARKS.md')

    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    })
    const report = readFileSync(out, 'utf8')

    expect(run.status, run.stderr).toBe(0)
    for (const section of [
      '## Machine',
      '## Targets',
      '## Throughput and latency',
      '## Database load from probes',
      '## GraphQL against its peers',
      '## Other figures',
      '## Reproduce',
    ]) {
      expect(report).toContain(section)
    }
    for (const scenario of [
      'GET /health',
      'POST /graphql { health { status } }',
      'GET /number_of_tables, 0 tables',
      'GET /number_of_tables, 100 tables',
    ]) {
      expect(report).toContain(`| ${scenario} | 1 |`)
      expect(report).toContain(`| ${scenario} | 64 |`)
    }
    expect(report).toContain('Errors or non-2xx answers: 0.')
    // Every figure is a median of rounds, with the range of the rounds.
    expect(report).toMatch(/\| GET \/health \| 64 \| [\d,]+ \([\d,]+–[\d,]+\) \|/)
    expect(report).toMatch(/\| GraphQL health at c=64 ≥ 0\.7× the floor \| [\d.]+x \| (yes|\*\*no\*\*) \|/)
    expect(report).toMatch(
      /\| the service: createGraphqlServer \(src\/graphql\/yoga\.ts\) \| [\d,]+ \([\d,]+–[\d,]+\) \| [\d.]+ \|/,
    )
    // The peers, each with CPU per request beside req/s, and the targets against them.
    for (const server of [
      'ctera-app (`npm start`)',
      'Mercurius 16, jit (Fastify 5)',
      'Apollo Server 5 (standalone)',
    ])
      expect(report).toMatch(
        new RegExp(
          `\\| ${server.replace(/[()`]/g, '\\$&')} \\| [\\d,]+ \\([\\d,]+–[\\d,]+\\) \\| [\\d.]+ \\([\\d.]+–[\\d.]+\\) \\| [\\d,]+ \\(`,
        ),
      )
    expect(report).toMatch(
      /\| GraphQL health ≥ 0\.5× Mercurius 16, jit \(Fastify 5\) .*\| [\d.]+x \| (yes|\*\*no\*\*) \|/,
    )
    expect(report).toMatch(/\| resident memory after the load ≤ 224 MB .*\| [\d.]+ MB \|/)
    expect(report).not.toContain('p99 of `/health` at c=1')
    expect(report).toMatch(/Configuration error \(`PORT=abc`.*\): median [\d,]+ \([\d,]+–[\d,]+\) ms/)
    expect(report).toMatch(/Cold start .* median [\d,]+ ms/)
    expect(report).toMatch(/Resident memory of the service after all the load above: [\d.]+ MB/)
  }, 300_000)
})
