import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectionSettings } from '../../src/config/database-target.js'
import { loadConfig } from '../../src/config/load-config.js'
import { ConfigError } from '../../src/config/readers.js'
import { createPostgresDatabase } from '../../src/db/postgres.js'
import { createLogger } from '../../src/logger.js'
import { type Certificates, makeCertificates, postgresSystemUser } from '../support/certificates.js'
import { startTestPostgres, type TestPostgres, withClient } from '../support/postgres.js'
import { type Combination, everyCombination } from '../support/tls-combinations.js'

// Every combination of docs/security.md's TLS tables, against a PostgreSQL with TLS and one without:
// refused at start, or connected exactly as the table says, never in plaintext when TLS was asked for.
let certificates: Certificates
let withTls: TestPostgres
let withoutTls: TestPostgres

beforeAll(async () => {
  certificates = makeCertificates(postgresSystemUser())
  ;[withTls, withoutTls] = await Promise.all([
    startTestPostgres({
      ssl: 'on',
      ssl_cert_file: certificates.certFile,
      ssl_key_file: certificates.keyFile,
    }),
    startTestPostgres(),
  ])
}, 120_000)
afterAll(async () => {
  await Promise.all([withTls?.destroy(), withoutTls?.destroy()])
})

const OPTIONS = {
  // A TLS handshake and a password exchange can take seconds on a loaded machine: outcomes are checked, not speed.
  connectTimeoutMs: 15_000,
  queryTimeoutMs: 15_000,
  healthTimeoutMs: 15_000,
  healthCacheMs: 0,
  healthIntervalMs: 600_000,
  poolMax: 1,
}

function environment(combination: Combination, server: ConnectionSettings, applicationName: string) {
  const files = { ca: certificates.caFile, other: certificates.otherCaFile, system: 'system' }
  const parameters = new URLSearchParams({
    application_name: applicationName,
    ...combination.url,
    ...(combination.roots.url ? { sslrootcert: files[combination.roots.url] } : {}),
  })
  // The server's certificate names localhost: verify-full checks that name.
  const url = `postgresql://${server.user}:${encodeURIComponent(server.password ?? '')}@localhost:${server.port}/${server.database}?${parameters}`
  return {
    DATABASE_URL: url,
    ...combination.env,
    ...(combination.roots.env ? { DB_SSLROOTCERT: files[combination.roots.env] } : {}),
  }
}

interface Outcome {
  healthy: boolean
  reason: string | null
  /** Whether the server saw the connection encrypted; null when none was made. */
  encrypted: boolean | null
}

async function connect(
  combination: Combination,
  server: TestPostgres,
  applicationName: string,
): Promise<Outcome> {
  const config = loadConfig(environment(combination, server.app, applicationName))
  if (config.database.kind !== 'external') throw new Error('expected an external database')
  const db = createPostgresDatabase(config.database, OPTIONS, createLogger('silent'))
  try {
    const report = await db.checkHealth()
    const encrypted = await withClient(server.admin, async (admin: pg.Client) => {
      const { rows } = await admin.query(
        'SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1',
        [applicationName],
      )
      return rows.length === 0 ? null : rows.every((row) => row.ssl === true)
    })
    return { healthy: report.healthy, reason: report.reason, encrypted }
  } finally {
    await db.close()
  }
}

/** What docs/security.md says each accepted plan does against each server. */
function expected(tls: { mode: string; ca?: string } | undefined, serverHasTls: boolean): Outcome {
  const plaintext = { healthy: true, reason: null, encrypted: false }
  const tlsError = { healthy: false, reason: 'tls error', encrypted: null }
  if (!tls) return plaintext
  if (!serverHasTls) return tlsError
  // Without a CA of ours, verify-full checks the system's CAs, which never signed the test's certificate.
  if (tls.mode === 'verify-full' && !tls.ca) return tlsError
  return { healthy: true, reason: null, encrypted: true }
}

describe('TLS to PostgreSQL, every combination of DATABASE_URL and DB_SSLMODE / DB_SSLROOTCERT', () => {
  it('refuses 253 at start in one line, and connects the 62 others as documented, to a server with TLS and one without', async () => {
    const combinations = everyCombination()
    const refused: string[] = []
    const differences: Array<{ name: string; server: string; got: Outcome; want: Outcome }> = []
    let index = 0
    const queue = combinations.map((combination) => ({ combination, id: index++ }))
    // Four at a time: the machine is shared.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const { combination, id } = next
          let tls: { mode: string; ca?: string } | undefined
          try {
            const database = loadConfig(environment(combination, withTls.app, 'x')).database
            tls = database.kind === 'external' ? database.tls : undefined
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError)
            expect((error as Error).message).not.toContain('\n')
            expect((error as Error).message).not.toContain(withTls.app.password)
            refused.push(combination.name)
            continue
          }
          for (const [server, hasTls] of [
            [withTls, true],
            [withoutTls, false],
          ] as const) {
            const got = await connect(combination, server, `ctera-tls-${id}-${hasTls ? 'tls' : 'plain'}`)
            const want = expected(tls, hasTls)
            if (JSON.stringify(got) !== JSON.stringify(want)) {
              differences.push({ name: combination.name, server: hasTls ? 'TLS' : 'plain', got, want })
            }
          }
        }
      }),
    )

    expect(differences).toEqual([])
    expect(refused).toHaveLength(253)
    expect(combinations.length - refused.length).toBe(62)
  }, 600_000)
})
