import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { parse as parseConnectionString } from 'pg-connection-string'
import type { ConnectionSettings } from '../../src/config/database-target.js'
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/db/embedded/embedded-postgres.js'
import { createLogger, type Logger } from '../../src/logger.js'

/** A real PostgreSQL for tests: a superuser for set-up, and the seed's `ctera` login role for the app. */
export interface TestPostgres {
  admin: ConnectionSettings
  app: ConnectionSettings
  server: EmbeddedPostgres
  /** Stops the server and deletes its files. */
  destroy(): Promise<void>
}

/** `logger` receives the server's own log at debug level (silent by default). */
export async function startTestPostgres(
  settings?: Record<string, string>,
  logger: Logger = createLogger('silent'),
): Promise<TestPostgres> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ctera-test-pg-'))
  const server = await startEmbeddedPostgres({ dataDir, user: 'postgres', logger, settings })
  const password = `pw-${randomBytes(12).toString('hex')}`
  await withClient(server.settings, async (client) => {
    // Password authentication with a plain login role, as the seed's compose file set up.
    await client.query(`CREATE ROLE ctera LOGIN PASSWORD '${password}'`)
  })
  return {
    admin: server.settings,
    app: { ...server.settings, user: 'ctera', password },
    server,
    destroy: async () => {
      await server.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * The suite's shared database on a server someone else runs (CI's PostgreSQL 13-18 service containers):
 * DATABASE_URL names a superuser; the `ctera` login role is made afresh with a new password.
 */
export async function useExternalPostgres(url: string): Promise<Omit<TestPostgres, 'server'>> {
  const parsed = parseConnectionString(url)
  const admin: ConnectionSettings = {
    host: parsed.host ?? 'localhost',
    port: Number(parsed.port ?? 5432),
    user: parsed.user ?? 'postgres',
    database: parsed.database ?? 'postgres',
    password: parsed.password ?? undefined,
  }
  const password = `pw-${randomBytes(12).toString('hex')}`
  const dropRole = (client: pg.Client) =>
    client.query(`DO $$ BEGIN
      IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'ctera') THEN
        EXECUTE 'DROP OWNED BY ctera CASCADE'; DROP ROLE ctera;
      END IF; END $$`)
  await withClient(admin, async (client) => {
    await dropRole(client)
    await client.query(`CREATE ROLE ctera LOGIN PASSWORD '${password}'`)
  })
  return {
    admin,
    app: { ...admin, user: 'ctera', password },
    destroy: () => withClient(admin, dropRole).then(() => undefined),
  }
}

export async function withClient<T>(
  settings: ConnectionSettings,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ ...settings })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/**
 * A table the `ctera` role may read, held under an exclusive lock by an open transaction: asking its
 * size (database { tables(schema) { nodes { sizeBytes } } }) waits until release(). A slow query on demand.
 */
export async function lockedTable(
  admin: ConnectionSettings,
): Promise<{ schema: string; release(): Promise<void> }> {
  const schema = `locked_${randomBytes(4).toString('hex')}`
  await withClient(admin, async (client) => {
    await client.query(`CREATE SCHEMA ${schema}`)
    await client.query(`CREATE TABLE ${schema}.busy (id int)`)
    await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ctera; GRANT SELECT ON ${schema}.busy TO ctera`)
  })
  const locker = new pg.Client({ ...admin })
  await locker.connect()
  await locker.query(`BEGIN; LOCK TABLE ${schema}.busy IN ACCESS EXCLUSIVE MODE`)
  return { schema, release: () => locker.end() }
}

/** A GraphQL request that waits on lockedTable()'s lock. */
export function slowRequest(url: string, schema: string): Promise<Response> {
  return fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ database { tables(schema: "${schema}") { nodes { sizeBytes } } } }` }),
  })
}
