import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { ConnectionSettings } from '../src/config/database-target.js'
import { startEmbeddedPostgres } from '../src/db/embedded/embedded-postgres.js'
import { createLogger } from '../src/logger.js'

/**
 * A fresh embedded PostgreSQL for a measurement run: pg_stat_statements loaded (it counts each query as it
 * completes; pg_stat_database lags by seconds), a superuser client, and the service's login role `ctera`
 * with its password in a file, as in production.
 */
export async function startMeasuredPostgres(name: string) {
  const work = await mkdtemp(join(tmpdir(), `ctera-${name}-`))
  await chmod(work, 0o711) // as root, the server runs as a `postgres` user that must reach its data
  const server = await startEmbeddedPostgres({
    dataDir: join(work, 'pg'),
    user: 'postgres',
    logger: createLogger('silent'),
    settings: { max_connections: '200', shared_preload_libraries: 'pg_stat_statements' },
  })
  const admin = new pg.Client({ ...server.settings })
  await admin.connect()
  const password = `${name}-password`
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
  await admin.query(`CREATE ROLE ctera LOGIN PASSWORD '${password}'`)
  const passwordFile = join(work, 'db_password')
  await writeFile(passwordFile, `${password}\n`)
  const app: ConnectionSettings = { ...server.settings, user: 'ctera', password }
  return {
    admin,
    app,
    passwordFile,
    stop: async () => {
      await admin.end()
      await server.stop()
      await rm(work, { recursive: true, force: true })
    },
  }
}

/**
 * How many health checks the database has run: the role query (src/db/role.ts), or `SELECT 1` where the
 * server cannot answer it (pg_stat_statements writes the literal as `$1`).
 */
export async function healthQueryCount(admin: pg.Client): Promise<number> {
  const result = await admin.query(
    `SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements
      WHERE query IN ('SELECT $1', 'SELECT 1') OR query LIKE 'SELECT pg_is_in_recovery() AS standby,%'`,
  )
  return Number(result.rows[0].n)
}
