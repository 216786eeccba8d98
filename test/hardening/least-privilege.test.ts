import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from '../support/dockerfile.js'
import { startTestPostgres, type TestPostgres, withClient } from '../support/postgres.js'
import { type RunningService, startService } from '../support/service.js'

const INIT_SCRIPT = resolve(ROOT, 'deploy/postgres/initdb/10-ctera-monitoring-role.sh')
const PASSWORD = 'monitoring-role-password'
let postgres: TestPostgres
let service: RunningService
let monitor: TestPostgres['app']

beforeAll(async () => {
  postgres = await startTestPostgres()
  await withClient(postgres.admin, async (admin) => {
    await admin.query('CREATE TABLE public.owned_by_admin (id int)')
    await admin.query('REVOKE ALL ON DATABASE postgres FROM PUBLIC') // only what the script grants
  })
  // Run the shipped init script exactly as the postgres image would, as the superuser.
  const run = runInitScript(passwordFile())
  if (run.status !== 0) throw new Error(`the init script failed: ${run.stderr}`)
  monitor = { ...postgres.admin, user: 'monitor', password: PASSWORD }
  service = await startService(monitor)
}, 120_000)
afterAll(async () => {
  await service?.close()
  await postgres?.destroy()
})

function passwordFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'monitoring-')), 'db_password')
  writeFileSync(file, `${PASSWORD}\n`)
  return file
}

/** The shipped init script, run as the postgres image runs it: as the superuser, for the role `monitor`. */
function runInitScript(appPasswordFile: string) {
  return spawnSync('bash', [INIT_SCRIPT], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      PGHOST: postgres.admin.host,
      PGPORT: String(postgres.admin.port),
      PGUSER: postgres.admin.user,
      PGPASSWORD: postgres.admin.password,
      POSTGRES_DB: 'postgres',
      APP_DB_USER: 'monitor',
      APP_PASSWORD_FILE: appPasswordFile,
    },
  })
}

async function graphql(query: string) {
  const response = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
  return response.json()
}

describe('the monitoring role made by deploy/postgres/initdb', () => {
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
    expect(insight.data.database.tables.totalCount).toBe(insight.data.numberOfTables)
    // pg_monitor: other roles' sessions count too (the admin's connection below is one of them).
    await withClient(postgres.admin, async () => {
      const again = await graphql('{ database { connections { active idle } } }')
      expect(
        again.data.database.connections.active + again.data.database.connections.idle,
      ).toBeGreaterThanOrEqual(2)
    })
  })

  it('can do nothing more: every session is read-only, with no create or write rights', async () => {
    const attempts = {
      createTable: 'CREATE TABLE public.nope (id int)',
      insert: 'INSERT INTO public.owned_by_admin VALUES (1)',
      createSchema: 'CREATE SCHEMA nope',
      createDatabase: 'CREATE DATABASE nope',
      createRole: 'CREATE ROLE nope',
      writableTransaction: 'BEGIN READ WRITE; CREATE TABLE public.nope2 (id int)',
    }
    const refused: Record<string, string> = {}
    await withClient(monitor, async (client) => {
      for (const [name, sql] of Object.entries(attempts)) {
        refused[name] = await client.query(sql).then(
          () => 'allowed',
          (error: { code?: string }) => error.code ?? 'refused',
        )
        await client.query('ROLLBACK').catch(() => undefined)
      }
    })
    const role = await withClient(
      postgres.admin,
      async (admin) =>
        (
          await admin.query(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication FROM pg_roles WHERE rolname = 'monitor'",
          )
        ).rows[0],
    )

    expect(Object.values(refused)).not.toContain('allowed')
    expect(refused.createTable).toBe('25006') // read_only_sql_transaction
    expect(refused.insert).toBe('25006')
    expect(role).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false })
  })

  it('is safe to run again, and says so in one line when the password file is missing', async () => {
    const again = runInitScript(passwordFile())
    const missing = runInitScript('/nonexistent')
    const roles = await withClient(postgres.admin, async (admin) =>
      Number((await admin.query("SELECT count(*) FROM pg_roles WHERE rolname = 'monitor'")).rows[0].count),
    )

    expect(again.status, again.stderr).toBe(0)
    expect(roles).toBe(1)
    expect((await fetch(`${service.url}/health`)).status).toBe(200)
    expect(missing.status).toBe(1)
    expect(missing.stderr.trim()).toBe('10-ctera-monitoring-role: cannot read /nonexistent')
    expect(`${again.stdout}${again.stderr}`).not.toContain(PASSWORD)
  })
})
