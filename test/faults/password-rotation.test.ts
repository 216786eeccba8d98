import { randomBytes } from 'node:crypto'
import { rename, writeFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPostgres, type TestPostgres, withClient } from '../support/postgres.js'
import {
  databaseEnv,
  MAIN,
  PRODUCTION_NODE_FLAGS,
  type ServiceProcess,
  spawnService,
} from '../support/process.js'

// The role's password rotated in PostgreSQL and then in DB_PASSWORD_FILE, as an operator (or a secrets
// manager) does it, under the compiled service with the production flags. A PostgreSQL of its own: the
// suite's shared role must keep its password.
const INTERVAL_MS = 500
let postgres: TestPostgres
let service: ServiceProcess
let url: string
let passwordFile: string
let cleanup: () => Promise<void>
const newPassword = `rotated-${randomBytes(12).toString('hex')}`

beforeAll(async () => {
  postgres = await startTestPostgres()
  const prepared = await databaseEnv(postgres.app, {
    HEALTH_INTERVAL_MS: String(INTERVAL_MS),
    NODE_ENV: 'production',
  })
  passwordFile = prepared.env.DB_PASSWORD_FILE
  cleanup = prepared.cleanup
  service = spawnService(prepared.env, { args: [...PRODUCTION_NODE_FLAGS, MAIN] })
  url = `http://127.0.0.1:${(await service.waitForLog('listening')).port}`
  await until(async () => (await fetch(`${url}/readyz`)).status === 200)
}, 120_000)
afterAll(async () => {
  service?.child.kill('SIGTERM')
  await service?.exited
  await cleanup?.()
  await postgres?.destroy()
})

async function until(condition: () => Promise<boolean>, limitMs = 60_000): Promise<number> {
  const started = performance.now()
  while (!(await condition())) {
    if (performance.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return Math.round(performance.now() - started)
}

const status = async (path: string) => (await fetch(`${url}${path}`)).status

/** Writes the file as Kubernetes updates a mounted secret: a new file renamed over the old one. */
async function replaceFile(contents: string) {
  await writeFile(`${passwordFile}.new`, contents, { mode: 0o644 })
  await rename(`${passwordFile}.new`, passwordFile)
}

describe('the role\u2019s password rotated in PostgreSQL and in DB_PASSWORD_FILE', () => {
  it('is used from the next connection on: healthy again within an interval plus damping, no restart, never logged', async () => {
    const oldPassword = postgres.app.password ?? ''
    const pid = service.child.pid

    await withClient(postgres.admin, (admin) => admin.query(`ALTER ROLE ctera PASSWORD '${newPassword}'`))
    const failedAfterMs = await until(async () => (await status('/health')) === 503)
    await replaceFile(`${newPassword}\n`)
    const healthyAfterMs = await until(async () => (await status('/health')) === 200)
    const readyAfterMs = await until(async () => (await status('/readyz')) === 200)
    // The sessions opened with the old password end: every new one must log in with the new one.
    await withClient(postgres.admin, (admin) =>
      admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ctera-app'",
      ),
    )
    const countAfterMs = await until(async () => (await status('/number_of_tables')) === 200)

    console.log(
      `password rotation: /health 503 ${failedAfterMs} ms after ALTER ROLE; after the file changed, /health 200 in ${healthyAfterMs} ms, /readyz 200 ${readyAfterMs} ms later, /number_of_tables on new sessions ${countAfterMs} ms after they were ended`,
    )
    expect(service.child.pid).toBe(pid)
    expect(service.child.exitCode).toBeNull()
    // One interval to notice, two successful checks (HEALTH_SUCCESSES_BEFORE_READY) to be ready; slack for a loaded machine.
    expect(healthyAfterMs + readyAfterMs).toBeLessThan(INTERVAL_MS * 3 + 10_000)
    const logs = service.stdout.join('\n') + service.stderr.join('\n')
    expect(logs).toContain('DB_PASSWORD_FILE changed: new connections use the new password')
    expect(logs).not.toContain(newPassword)
    expect(logs).not.toContain(oldPassword)
  }, 180_000)

  it('keeps the last good password while the file is empty or missing, and says so once', async () => {
    await writeFile(passwordFile, '')
    await withClient(postgres.admin, (admin) =>
      admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ctera-app'",
      ),
    )

    await until(async () => (await status('/number_of_tables')) === 200)
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 4))

    expect(await status('/health')).toBe(200)
    const warnings = service.stdout.filter((line) => line.includes('cannot read DB_PASSWORD_FILE'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('"reason":"empty"')
    expect(warnings[0]).not.toContain(newPassword)
  }, 60_000)
})
