import { describe, expect, it } from 'vitest'
import { planDatabaseTls, splitTlsParameters, type TlsPlan } from '../../src/config/database-tls.js'
import { loadConfig } from '../../src/config/load-config.js'
import { ConfigError } from '../../src/config/readers.js'
import {
  type Combination,
  ENV_MODES,
  everyCombination,
  securityDocTable,
} from '../support/tls-combinations.js'

const FILES = { ca: '/certs/ca.pem', other: '/certs/other.pem', system: 'system' } as const
const HEADING = '## TLS to PostgreSQL: every combination'
const modeTable = securityDocTable(HEADING, '`DATABASE_URL` says')
const caTable = securityDocTable(HEADING, 'mode')

/** What docs/security.md's two tables and their prose say a combination gives. */
function documented({ url, env, roots }: Combination): TlsPlan | 'refused' {
  const row = modeTable.find((cells, index) =>
    index === 0
      ? false
      : Object.keys(url).length === 0
        ? cells[0] === 'nothing'
        : Object.entries(url).every(([key, value]) => cells[0]?.includes(`\`${key}=${value}\``)),
  )
  const mode = row?.[1 + ENV_MODES.indexOf(env.DB_SSLMODE as (typeof ENV_MODES)[number])]
  if (!mode || mode === 'refused') return 'refused'
  if (roots.url && roots.env && roots.url !== roots.env) return 'refused'
  const sslTrueAlone = url.ssl === 'true' && !url.sslmode
  const root = roots.env ?? roots.url ?? (sslTrueAlone ? 'system' : undefined)
  const caColumn = root === undefined ? 1 : root === 'system' ? 3 : 2
  const outcome = caTable.find((cells) => cells[0] === mode)?.[caColumn]
  if (!outcome || outcome.startsWith('refused')) return 'refused'
  return { mode: mode as TlsPlan['mode'], ...(root ? { rootCert: FILES[root] } : {}) }
}

function planned({ url, env, roots }: Combination): TlsPlan | 'refused' {
  try {
    return planDatabaseTls({
      url: { ...url, ...(roots.url ? { sslrootcert: FILES[roots.url] } : {}) },
      env: { ...env, ...(roots.env ? { DB_SSLROOTCERT: FILES[roots.env] } : {}) },
    })
  } catch {
    return 'refused'
  }
}

describe('TLS to PostgreSQL: DATABASE_URL and DB_SSLMODE / DB_SSLROOTCERT together', () => {
  const combinations = everyCombination()

  it('reads the tables of docs/security.md (6 URL rows, 4 modes)', () => {
    expect(modeTable.map((cells) => cells.length)).toEqual([6, 6, 6, 6, 6, 6, 6])
    expect(caTable.map((cells) => cells[0])).toEqual([
      'mode',
      'disable',
      'require',
      'verify-ca',
      'verify-full',
    ])
  })

  it('does, for each of the 315 combinations, what docs/security.md says', () => {
    const differences = combinations
      .map((combination) => ({
        name: combination.name,
        documented: documented(combination),
        planned: planned(combination),
      }))
      .filter((each) => JSON.stringify(each.documented) !== JSON.stringify(each.planned))

    expect(combinations).toHaveLength(315)
    expect(differences).toEqual([])
    expect(combinations.filter((combination) => planned(combination) === 'refused')).toHaveLength(253)
  })

  it('never ends in plaintext when either place asks for require, verify-ca or verify-full', () => {
    const asksForTls = (combination: Combination) =>
      ['require', 'verify-ca', 'verify-full'].includes(combination.env.DB_SSLMODE ?? '') ||
      ['require', 'no-verify', 'verify-ca', 'verify-full'].includes(combination.url.sslmode ?? '') ||
      combination.url.ssl === 'true'

    const weakened = combinations.filter((combination) => {
      const plan = planned(combination)
      return asksForTls(combination) && plan !== 'refused' && plan.mode === 'disable'
    })

    expect(weakened).toEqual([])
  })

  it('refuses the issue\u2019s case in one line that names both settings', () => {
    expect(() =>
      planDatabaseTls({
        url: { sslmode: 'disable' },
        env: { DB_SSLMODE: 'verify-full', DB_SSLROOTCERT: '/ca.pem' },
      }),
    ).toThrow(
      "DB_SSLMODE=verify-full and DATABASE_URL's sslmode=disable disagree; set the mode in one place, or the same in both",
    )
    expect(() =>
      planDatabaseTls({
        url: { sslrootcert: '/a.pem' },
        env: { DB_SSLMODE: 'verify-ca', DB_SSLROOTCERT: '/b.pem' },
      }),
    ).toThrow("DB_SSLROOTCERT=/b.pem and DATABASE_URL's sslrootcert=/a.pem disagree")
  })

  it('lets sslmode refine ssl=true, and refuses ssl=false with a TLS sslmode', () => {
    expect(planDatabaseTls({ url: { ssl: 'true', sslmode: 'require' }, env: {} })).toEqual({
      mode: 'require',
    })
    expect(() => planDatabaseTls({ url: { ssl: 'false', sslmode: 'require' }, env: {} })).toThrow(
      "DATABASE_URL's ssl=false and sslmode=require disagree; keep one",
    )
    expect(() => planDatabaseTls({ url: { ssl: 'yes' }, env: {} })).toThrow("DATABASE_URL's ssl=yes")
  })

  it('takes a client certificate from the URL, both halves or none, never with TLS off', () => {
    expect(
      planDatabaseTls({ url: { sslmode: 'require', sslcert: '/c.pem', sslkey: '/k.pem' }, env: {} }),
    ).toEqual({ mode: 'require', clientCert: { certFile: '/c.pem', keyFile: '/k.pem' } })
    expect(() => planDatabaseTls({ url: { sslmode: 'require', sslcert: '/c.pem' }, env: {} })).toThrow(
      'go together',
    )
    expect(() => planDatabaseTls({ url: { sslcert: '/c.pem', sslkey: '/k.pem' }, env: {} })).toThrow(
      'TLS is off',
    )
  })
})

describe('DATABASE_URL without its TLS parameters', () => {
  it('keeps every other parameter as written, and reads the TLS ones as node-postgres does', () => {
    const split = splitTlsParameters(
      'postgres://u:p%40ss@h:5432/d?application_name=a%20b&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&ssl=true&options=-c%20x%3Dy',
    )

    expect(split).toEqual({
      url: 'postgres://u:p%40ss@h:5432/d?application_name=a%20b&options=-c%20x%3Dy',
      tls: { sslmode: 'verify-full', sslrootcert: '/etc/ca.pem', ssl: 'true' },
    })
    expect(splitTlsParameters('postgres://h/d?sslmode=disable')).toEqual({
      url: 'postgres://h/d',
      tls: { sslmode: 'disable' },
    })
    expect(splitTlsParameters('postgres://h/d')).toEqual({ url: 'postgres://h/d', tls: {} })
  })

  it('is what loadConfig hands on: the URL the driver sees has no TLS parameter left', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@h/d?sslmode=require&application_name=x' })

    expect(config.database).toMatchObject({
      connectionString: 'postgres://u@h/d?application_name=x',
      tls: { mode: 'require' },
    })
  })

  it('refuses PGSSLMODE, which node-postgres would read as a third setting', () => {
    expect(() => loadConfig({ DB_HOST: 'db', PGSSLMODE: 'require' })).toThrow(
      new ConfigError(
        'PGSSLMODE: not read by ctera-app; set DB_SSLMODE (or sslmode in DATABASE_URL) instead',
      ),
    )
  })
})
