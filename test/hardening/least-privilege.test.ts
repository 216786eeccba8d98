import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectionSettings } from '../../src/config/database-target.js'
import { createLogger } from '../../src/logger.js'
import {
  INIT_SCRIPT,
  type InitScriptRun,
  nonExecutableCopy,
  runLikeThePostgresImage,
} from '../support/init-script.js'
import { createLogSink } from '../support/log-sink.js'
import { startTestPostgres, type TestPostgres, withClient } from '../support/postgres.js'
import { type RunningService, startService } from '../support/service.js'

// Shell and SQL both give meaning to these characters: the password must arrive as it is.
const PASSWORD = `monitor 'pass' \\ $word:"x" -v`
// A part of it that no quoting for a shell or SQL would change, to look for wherever it must not be.
const SECRET_PART = '$word:"x"'
const DATABASE = 'ctera'
let postgres: TestPostgres
// What the server logged, as it wrote it: the `postgres` field of the logger's lines.
const logSink = createLogSink()
const serverLog = () =>
  logSink.records.flatMap((line) => (typeof line.postgres === 'string' ? [line.postgres] : []))
let firstRun: InitScriptRun
let service: RunningService
let monitor: ConnectionSettings

beforeAll(async () => {
  postgres = await startTestPostgres(
    {
      // Everything the server could record about a statement is recorded, to show the password is not.
      log_statement: 'all',
      log_min_duration_statement: '0',
      shared_preload_libraries: 'pg_stat_statements',
    },
    createLogger('debug', logSink.stream),
  )
  await withClient(postgres.admin, async (admin) => {
    await admin.query('CREATE EXTENSION pg_stat_statements')
    // What the postgres image does for POSTGRES_DB, and nothing more.
    await admin.query(`CREATE DATABASE ${DATABASE}`)
  })
  const appDatabase = { ...postgres.admin, database: DATABASE }
  await withClient(appDatabase, (admin) => admin.query('CREATE TABLE public.owned_by_admin (id int)'))

  firstRun = await runLikeThePostgresImage(
    INIT_SCRIPT,
    postgres.admin,
    imageEnv(passwordFile(`${PASSWORD}\n`)),
  )
  if (firstRun.status !== 0) throw new Error(`the init script failed: ${firstRun.stderr}`)
  monitor = { ...appDatabase, user: 'monitor', password: PASSWORD }
  service = await startService(monitor)
}, 120_000)
afterAll(async () => {
  await service?.close()
  await postgres?.destroy()
})

function passwordFile(contents: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'monitoring-')), 'db_password')
  writeFileSync(file, contents)
  return file
}

function imageEnv(appPasswordFile: string) {
  return { POSTGRES_DB: DATABASE, APP_DB_USER: 'monitor', APP_PASSWORD_FILE: appPasswordFile }
}

async function graphql(query: string) {
  const response = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
  return response.json()
}

/**
 * Runs each attempt (one statement, or several in turn) as the monitoring role in `database`, each on a
 * connection of its own; the SQLSTATE of the first refusal, or 'allowed'.
 */
async function attemptAsMonitor(database: string, attempts: Record<string, string | string[]>) {
  const outcome: Record<string, string> = {}
  for (const [name, statements] of Object.entries(attempts)) {
    outcome[name] = await withClient({ ...monitor, database }, async (client) => {
      try {
        for (const sql of [statements].flat()) await client.query(sql)
        return 'allowed'
      } catch (error) {
        return (error as { code?: string }).code ?? 'refused'
      }
    })
  }
  return outcome
}

describe('the monitoring role made by deploy/postgres/initdb, on a database as the postgres image makes it', () => {
  it('runs every feature', async () => {
    const health = await fetch(`${service.url}/health`)
    const tables = await fetch(`${service.url}/number_of_tables`)
    const healthz = await fetch(`${service.url}/healthz`)
    const metrics = await (await fetch(`${service.url}/metrics`)).text()
    const insight = await graphql(
      '{ health { healthy } numberOfTables database { name serverVersion sizeBytes uptimeSeconds inRecovery connections { active idle max } tables(first: 5) { totalCount nodes { name sizeBytes } } } }',
    )

    expect(health.status).toBe(200)
    expect(tables.status).toBe(200)
    expect(healthz.status).toBe(200)
    expect(metrics).toMatch(/^db_up 1$/m)
    expect(insight.errors).toBeUndefined()
    expect(insight.data.database.name).toBe(DATABASE)
    expect(insight.data.database.tables.totalCount).toBe(insight.data.numberOfTables)
    // pg_monitor: other roles' sessions count too (the admin's connection below is one of them).
    await withClient({ ...postgres.admin, database: DATABASE }, async () => {
      const again = await graphql('{ database { connections { active idle } } }')
      expect(
        again.data.database.connections.active + again.data.database.connections.idle,
      ).toBeGreaterThanOrEqual(2)
    })
  })

  it('writes nothing by default: every session is read-only', async () => {
    const refused = await attemptAsMonitor(DATABASE, {
      createTable: 'CREATE TABLE public.nope (id int)',
      insert: 'INSERT INTO public.owned_by_admin VALUES (1)',
      createTempTable: 'CREATE TEMP TABLE nope (id int)',
    })

    expect(refused).toEqual({ createTable: '25006', insert: '25006', createTempTable: '25006' }) // read_only_sql_transaction
  })

  it('can write nothing even in a transaction that asks to write, in any database', async () => {
    const writes = {
      createTable: 'BEGIN READ WRITE; CREATE TABLE public.nope (id int)',
      insert: 'BEGIN READ WRITE; INSERT INTO public.owned_by_admin VALUES (1)',
      createTempTable: 'BEGIN READ WRITE; CREATE TEMP TABLE nope (id int)',
      createTempView: 'BEGIN READ WRITE; CREATE TEMP VIEW nope AS SELECT 1',
      largeObject: "BEGIN READ WRITE; SELECT lo_from_bytea(0, '\\x00')",
      largeObjectCreate: 'BEGIN READ WRITE; SELECT lo_create(0)',
      createSchema: 'BEGIN READ WRITE; CREATE SCHEMA nope',
      // Cannot run inside BEGIN; the session's read-only default is turned off first instead.
      createDatabase: ['SET default_transaction_read_only = off', 'CREATE DATABASE nope'],
      createRole: 'BEGIN READ WRITE; CREATE ROLE nope',
    }
    const inAppDatabase = await attemptAsMonitor(DATABASE, writes)
    const { insert: _onlyInTheAppDatabase, ...elsewhere } = writes
    const inPostgres = await attemptAsMonitor('postgres', elsewhere)
    const inTemplate1 = await attemptAsMonitor('template1', elsewhere)
    const role = await withClient(
      postgres.admin,
      async (admin) =>
        (
          await admin.query(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = 'monitor'",
          )
        ).rows[0],
    )

    const refusedForLackOfRights = (attempts: object) =>
      Object.fromEntries(Object.keys(attempts).map((name) => [name, '42501'])) // insufficient_privilege
    expect(inAppDatabase).toEqual(refusedForLackOfRights(writes))
    expect(inPostgres).toEqual(refusedForLackOfRights(elsewhere))
    expect(inTemplate1).toEqual(refusedForLackOfRights(elsewhere))
    expect(role).toEqual({
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolreplication: false,
      rolbypassrls: false,
    })
  })

  it('cannot fill the disk with temporary files: a query that spills stops at temp_file_limit', async () => {
    const outcome = await attemptAsMonitor(DATABASE, {
      raiseTheLimit: 'SET temp_file_limit = -1',
      // About 100 MB to sort with 64 kB of memory: it must spill to temporary files.
      spill:
        "SET work_mem = '64kB'; SELECT count(*) FROM (SELECT repeat('x', 1000) || g AS s FROM generate_series(1, 100000) g ORDER BY 1) sorted",
    })

    expect(outcome).toEqual({ raiseTheLimit: '42501', spill: '53400' }) // configuration_limit_exceeded
  })

  it('never shows the password: not on a command line, not in the server log, not in pg_stat_statements', async () => {
    // The server's log reaches this process through a pipe: wait (a bounded while) for the script's last statement.
    for (
      let wait = 0;
      wait < 50 && !serverLog().join('\n').includes('lo_from_bytea(oid, bytea) FROM PUBLIC');
      wait++
    )
      await new Promise((resolve) => setTimeout(resolve, 100))
    const logged = serverLog().join('\n')
    const statements = await withClient(postgres.admin, async (admin) =>
      (await admin.query('SELECT query FROM pg_stat_statements')).rows.map((row) => row.query as string),
    )

    expect(firstRun.psqlCommandLines.length).toBeGreaterThan(0)
    expect(firstRun.psqlCommandLines.join('\n')).not.toContain(SECRET_PART)
    // The log and the statistics do record what the script ran, just not the password.
    expect(logged).toContain('REVOKE EXECUTE ON FUNCTION lo_creat')
    expect(logged).not.toContain(SECRET_PART)
    expect(statements.some((query) => query.includes('lo_creat'))).toBe(true)
    expect(statements.join('\n')).not.toContain(SECRET_PART)
    expect(`${firstRun.stdout}${firstRun.stderr}`).not.toContain(SECRET_PART)
    expect(firstRun.stdout).toContain('entrypoint: went on after')
  })

  it('is safe to run again, also sourced (as the image does with a file that is not executable)', async () => {
    const again = await runLikeThePostgresImage(
      nonExecutableCopy(INIT_SCRIPT),
      postgres.admin,
      imageEnv(passwordFile(`${PASSWORD}\r\n`)),
    )
    const roles = await withClient(postgres.admin, async (admin) =>
      Number((await admin.query("SELECT count(*) FROM pg_roles WHERE rolname = 'monitor'")).rows[0].count),
    )

    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout).toContain('entrypoint: went on after')
    expect(roles).toBe(1)
    expect((await fetch(`${service.url}/health`)).status).toBe(200)
    expect(`${again.stdout}${again.stderr}`).not.toContain(SECRET_PART)
  })

  it('stops the image with one line when the password file is missing, empty or holds two lines', async () => {
    const runs = {
      missing: await runLikeThePostgresImage(INIT_SCRIPT, postgres.admin, imageEnv('/nonexistent')),
      empty: await runLikeThePostgresImage(INIT_SCRIPT, postgres.admin, imageEnv(passwordFile('\n'))),
      twoLines: await runLikeThePostgresImage(
        nonExecutableCopy(INIT_SCRIPT),
        postgres.admin,
        imageEnv(passwordFile('first\nsecond\n')),
      ),
    }

    for (const run of Object.values(runs)) {
      expect(run.status).not.toBe(0)
      expect(run.stdout).not.toContain('entrypoint: went on after')
      expect(run.psqlCommandLines).toEqual([])
    }
    expect(runs.missing.stderr).toBe('10-ctera-monitoring-role: cannot read /nonexistent\n')
    expect(runs.empty.stderr).toMatch(/^10-ctera-monitoring-role: \S+db_password is empty\n$/)
    expect(runs.twoLines.stderr).toMatch(
      /^10-ctera-monitoring-role: \S+db_password holds more than one line\n$/,
    )
  })
})
