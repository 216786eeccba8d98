import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CONFIGURATION_DOC, settingsTable, withCurrentTable } from '../../scripts/configuration-docs.js'
import { loadConfig } from '../../src/config/load-config.js'
import type { Env } from '../../src/config/readers.js'
import { SETTINGS } from '../../src/config/settings.js'

/** The variables loadConfig looks at, seen by handing it environments that record each read. */
function variablesRead(): Set<string> {
  const read = new Set<string>()
  const recording = (values: Env): Env =>
    new Proxy(values, {
      get(target, name) {
        if (typeof name === 'string') read.add(name)
        return target[name as string]
      },
    })
  loadConfig(recording({}))
  loadConfig(recording({ DB_HOST: 'db', DB_PASSWORD: 'x' }))
  loadConfig(recording({ DATABASE_URL: 'postgres://u@h/d' }))
  return read
}

const tableNames = Object.values(SETTINGS).flatMap((setting) =>
  setting.variables.map((variable) => variable.name),
)

describe('the settings table (src/config/settings.ts)', () => {
  it('names every variable loadConfig reads, and only those, once each', () => {
    expect(new Set(tableNames).size).toBe(tableNames.length)
    expect([...variablesRead()].sort()).toEqual([...tableNames].sort())
  })

  it('is what docs/configuration.md shows (npm run docs:config writes it)', () => {
    const document = readFileSync(CONFIGURATION_DOC, 'utf8')
    expect(document).toContain(settingsTable())
    expect(withCurrentTable(document)).toBe(document)
  })

  it('notices a doc that fell behind', () => {
    const stale = withCurrentTable(readFileSync(CONFIGURATION_DOC, 'utf8')).replace(
      '| `PORT` | `5001` |',
      '| `PORT` | `5002` |',
    )
    expect(withCurrentTable(stale)).not.toBe(stale)
  })
})
