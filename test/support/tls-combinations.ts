import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/**
 * Every way of combining DATABASE_URL's TLS parameters with DB_SSLMODE and DB_SSLROOTCERT that
 * docs/security.md's tables cover: 9 ways of writing the URL, 5 of DB_SSLMODE, 7 of the two CA settings.
 * The CA settings name roles, not files: `ca` and `other` are two different PEM files, `system` is libpq's word.
 */
export const URL_MODES: Array<Record<string, string>> = [
  {},
  { sslmode: 'disable' },
  { ssl: 'false' },
  { sslmode: 'require' },
  { sslmode: 'no-verify' },
  { sslmode: 'verify-ca' },
  { sslmode: 'verify-full' },
  { ssl: 'true' },
  { sslmode: 'prefer' },
]
export const ENV_MODES = [undefined, 'disable', 'require', 'verify-ca', 'verify-full'] as const
export type RootRole = 'ca' | 'other' | 'system'
export const ROOTS: Array<{ url?: RootRole; env?: RootRole }> = [
  {},
  { url: 'ca' },
  { env: 'ca' },
  { url: 'ca', env: 'ca' },
  { url: 'ca', env: 'other' },
  { url: 'system' },
  { env: 'system' },
]

export interface Combination {
  url: Record<string, string>
  env: { DB_SSLMODE?: string }
  roots: { url?: RootRole; env?: RootRole }
  /** For messages: `sslmode=require + DB_SSLMODE=verify-ca + url CA ca`. */
  name: string
}

export function everyCombination(): Combination[] {
  return URL_MODES.flatMap((url) =>
    ENV_MODES.flatMap((mode) =>
      ROOTS.map((roots) => ({
        url,
        env: mode ? { DB_SSLMODE: mode } : {},
        roots,
        name: [
          Object.entries(url).map(([key, value]) => `${key}=${value}`)[0] ?? 'no URL parameter',
          `DB_SSLMODE=${mode ?? 'unset'}`,
          `URL CA ${roots.url ?? 'unset'}`,
          `DB_SSLROOTCERT ${roots.env ?? 'unset'}`,
        ].join(' + '),
      })),
    ),
  )
}

/** The rows of a markdown table in docs/security.md under `heading`, as cells (header row first). */
export function securityDocTable(heading: string, firstHeaderCell: string): string[][] {
  const text = readFileSync(resolve(import.meta.dirname, '../../docs/security.md'), 'utf8')
  const section = text.slice(text.indexOf(heading))
  const start = section.indexOf(`| ${firstHeaderCell} |`)
  const lines = section.slice(start).split('\n')
  const table = lines.slice(
    0,
    lines.findIndex((line) => !line.startsWith('|')),
  )
  return table
    .filter((line) => !/^\|\s*---/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    )
}
