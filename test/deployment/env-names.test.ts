import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { envOf, ROOT, readStages } from '../support/dockerfile.js'
import { variablesTheAppReads } from '../support/env-names.js'

const appReads = variablesTheAppReads()

describe('environment variable names', () => {
  it('the recording sees the seed names', () => {
    for (const name of [
      'PORT',
      'CONTAINER_NAME',
      'DB_HOST',
      'DB_PORT',
      'DB_USER',
      'DB_NAME',
      'DB_PASSWORD_FILE',
    ]) {
      expect(appReads).toContain(name)
    }
  })

  it('every variable the compose file gives the app is one the app reads', () => {
    const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yaml'), 'utf8'))

    const names = Object.keys(compose.services['ctera-app'].environment)

    expect(names.filter((name) => !appReads.has(name))).toEqual([])
  })

  it('every variable the Dockerfile sets (but NODE_ENV, and PATH for the runtime) is one the app reads', () => {
    const names = Object.keys(envOf(readStages().at(-1) ?? ({ instructions: [] } as never)))
    // PATH: where the distroless base keeps node, for CMD and the health checks; not the app's setting.
    const forNode = new Set(['NODE_ENV', 'PATH'])

    expect(names.filter((name) => !forNode.has(name) && !appReads.has(name))).toEqual([])
  })

  it('docs/configuration.md lists exactly the variables the app reads', () => {
    const table = readFileSync(resolve(ROOT, 'docs', 'configuration.md'), 'utf8')
    const documented = new Set(
      [...table.matchAll(/^\| ((?:`[A-Z_]+`(?:, )?)+) \|/gm)].flatMap((match) =>
        [...(match[1] ?? '').matchAll(/`([A-Z_]+)`/g)].map((name) => name[1]),
      ),
    )

    expect([...documented].sort()).toEqual([...appReads].sort())
  })
})
