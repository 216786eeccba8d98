import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { envOf, execForm, ROOT, readStages, withKeyword, words } from '../support/dockerfile.js'

const stages = readStages()
const runtime = stages.at(-1)
if (!runtime) throw new Error('the Dockerfile has no stage')

describe('Dockerfile', () => {
  it('is multi-stage: a build stage, then a runtime stage that copies only the bundle from it, as dist/', () => {
    const fromBuild = withKeyword(runtime, 'COPY').filter(
      (copy) => copy.getArgumentsContent() && /--from=/.test(copy.getTextContent()),
    )

    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(stages[0]?.name).toBe('build')
    expect(fromBuild.map(words)).toEqual([['/app/bundle', './dist']])
  })

  it('pins every base image to an exact version (never latest)', () => {
    for (const stage of stages) {
      expect(stage.tag ?? '').not.toBe('latest')
      expect(`${stage.tag}${stage.digest ?? ''}`).toMatch(/^\d+\.\d+\.\d+|sha256:/)
    }
  })

  it('has no `# syntax=` line: BuildKit would pull that frontend from Docker Hub before building', () => {
    const directives = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8').match(/^#\s*syntax\s*=.*$/im)

    expect(directives).toBeNull()
  })

  it('builds on one exact Node.js 24 (LTS) release and runs on the distroless Node.js 24 base, pinned by digest', () => {
    const build = stages[0]

    expect(`${build?.image}:${build?.tag}`).toMatch(/^node:24\.\d+\.\d+-bookworm-slim$/)
    const froms = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8').match(/^FROM\s.*$/gim) ?? []

    expect(froms.at(-1)).toMatch(
      /^FROM gcr\.io\/distroless\/nodejs24-debian13:nonroot@sha256:[0-9a-f]{64} AS runtime$/,
    )
  })

  it("bundles on the build machine's platform (the bundle is the same JavaScript for every target)", () => {
    const from = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8').match(/^FROM\s.*\bAS build$/im)?.[0]

    expect(from).toMatch(/^FROM --platform=\$BUILDPLATFORM /)
  })

  it('runs the runtime stage as a non-root user', () => {
    const users = withKeyword(runtime, 'USER').map((user) => words(user)[0])

    expect(users.length).toBeGreaterThan(0)
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/)
  })

  it('has a HEALTHCHECK that needs no curl', () => {
    const [healthcheck] = withKeyword(runtime, 'HEALTHCHECK')

    expect(healthcheck).toBeDefined()
    expect(healthcheck && execForm(healthcheck)).toEqual(['node', 'dist/healthcheck.js'])
  })

  it('starts node itself, never npm (npm does not pass SIGTERM on)', () => {
    const [cmd] = withKeyword(runtime, 'CMD')

    expect(cmd && execForm(cmd)).toEqual([
      'node',
      '--enable-source-maps',
      '--max-old-space-size=128',
      '--max-semi-space-size=8',
      'dist/main.js',
    ])
    // The distroless base's ENTRYPOINT (/nodejs/bin/node) is cleared, so CMD is the whole command line.
    expect(withKeyword(runtime, 'ENTRYPOINT').map((entrypoint) => entrypoint.getArgumentsContent())).toEqual([
      '[]',
    ])
    expect(envOf(runtime).PATH?.split(':')[0]).toBe('/nodejs/bin')
  })

  it('sets NODE_ENV=production and exposes 5001', () => {
    expect(envOf(runtime).NODE_ENV).toBe('production')
    expect(withKeyword(runtime, 'EXPOSE').flatMap(words)).toContain('5001')
  })

  it('copies no secret or .env file into any stage', () => {
    const sources = stages.flatMap((stage) =>
      [...withKeyword(stage, 'COPY'), ...withKeyword(stage, 'ADD')].flatMap((copy) =>
        words(copy).slice(0, -1),
      ),
    )

    expect(sources.length).toBeGreaterThan(0)
    for (const source of sources) expect(source).not.toMatch(/db_password|\.env|secret|\.data|^\.$/)
  })

  it('runs nothing in the runtime stage (no shell there) and copies no node_modules into it', () => {
    const copied = withKeyword(runtime, 'COPY').flatMap((copy) => words(copy).slice(0, -1))

    expect(withKeyword(runtime, 'RUN')).toEqual([])
    expect(copied).toEqual(['package.json', '/app/bundle'])
  })

  it('installs the build stage from the lockfile without running install scripts', () => {
    const runs = withKeyword(stages[0] ?? runtime, 'RUN').map((run) => run.getArgumentsContent() ?? '')

    expect(runs.some((run) => /npm ci\b.*--ignore-scripts/.test(run))).toBe(true)
    expect(runs.at(-1)).toBe('npm run bundle')
  })
})

describe('.dockerignore', () => {
  it('keeps node_modules, .git, .data, secrets and tests out of the build context', () => {
    const ignored = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))

    for (const path of [
      'node_modules',
      '.git',
      '.data',
      'db_password.txt',
      'db_password.txt.gpg',
      '.env',
      'test',
      'dist',
    ]) {
      expect(ignored).toContain(path)
    }
  })
})
