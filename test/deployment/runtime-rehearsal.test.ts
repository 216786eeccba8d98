import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findFreePort } from '../../src/net/free-port.js'
import { envOf, execForm, flags, ROOT, readStages, withKeyword, words } from '../support/dockerfile.js'
import { startTestPostgres, type TestPostgres } from '../support/postgres.js'
import { readableByNobody, spawnService } from '../support/process.js'

// No Docker engine here, so the image's runtime stage is rehearsed outside Docker: the bundle is built
// as the build stage builds it (`npm run bundle`), the runtime stage's instructions are read from the
// Dockerfile and carried out in order in an empty directory, then the app is started there the way CMD
// starts it, as the image's unprivileged user, against a real PostgreSQL. (The container suite,
// `npm run test:containers`, runs the real image.)
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
  const bundled = spawnSync('npm', ['run', '--silent', 'bundle'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  })
  if (bundled.status !== 0) throw new Error(`npm run bundle failed: ${bundled.stderr}`)
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

/**
 * A module for `node --import` that writes, at exit, every file URL the process loaded (a module hook: the
 * bundle's chunks are ES modules), one per line, to `list`.
 */
function recordLoads(list: string): string {
  const source = `
    import { registerHooks } from 'node:module'
    import { writeFileSync } from 'node:fs'
    const loaded = []
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context) } })
    process.on('exit', () => writeFileSync(${JSON.stringify(list)}, loaded.join('\\n')))
  `
  return `data:text/javascript,${encodeURIComponent(source)}`
}

/** The bundle's chunks among the loaded files whose inputs (bundle.meta.json) match `inputs`. */
function chunksHolding(loadedList: string, inputs: RegExp): string[] {
  const meta = JSON.parse(readFileSync(join(ROOT, 'bundle.meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>
  }
  const holding = Object.entries(meta.outputs)
    .filter(([, output]) => Object.keys(output.inputs).some((input) => inputs.test(input)))
    .map(([file]) => file.split('/').at(-1) ?? file)
  return loadedList
    .split('\n')
    .map((url) => url.split('/').at(-1) ?? '')
    .filter((file) => holding.includes(file))
}

function healthcheck(): number | null {
  const [healthcheckInstruction] = withKeyword(runtime ?? ({} as never), 'HEALTHCHECK')
  const [command, ...args] = execForm(healthcheckInstruction ?? ({} as never))
  expect(command).toBe('node')
  return spawnSync(process.execPath, args, { cwd: app, env, ...NODE_USER, timeout: 30_000 }).status
}

describe('the image runtime stage, rehearsed', () => {
  it('holds the bundle, its source maps and package.json only: no node_modules (so no second Node), no src/', () => {
    const dist = readdirSync(join(app, 'dist'))

    expect(readdirSync(app).sort()).toEqual(['dist', 'package.json'])
    expect(dist).toContain('main.js')
    expect(dist).toContain('healthcheck.js')
    expect(dist).toContain('graphiql-assets.json')
    for (const file of dist.filter((name) => name.endsWith('.js'))) expect(dist).toContain(`${file}.map`)
  })

  it('loads the OpenTelemetry SDK only when tracing is on', async ({ skip }) => {
    if (!readableByNobody(app)) skip('the rehearsal directory is not readable by an unprivileged user')
    const [cmd] = withKeyword(runtime, 'CMD')
    const args = execForm(cmd ?? ({} as never)).slice(1)
    const loaded = async (tracing: Record<string, string>) => {
      // Written by the service's unprivileged user: a directory it may write to.
      const dir = mkdtempSync(join(tmpdir(), 'ctera-loads-'))
      chmodSync(dir, 0o777)
      const list = join(dir, 'loaded.txt')
      const service = spawnService(
        { ...env, ...tracing, PORT: String(await findFreePort()) },
        { ...NODE_USER, cwd: app, args: ['--import', recordLoads(list), ...args] },
      )
      await service.waitForLog('listening', 20_000)
      service.child.kill('SIGTERM')
      await service.exited
      const files = readFileSync(list, 'utf8')
      rmSync(dir, { recursive: true, force: true })
      return files
    }
    const sdk = /@opentelemetry\/(sdk-trace|exporter-trace-otlp-http)\//

    const off = await loaded({})
    // An endpoint nothing listens on: the SDK loads and starts; spans that cannot be sent are dropped.
    const on = await loaded({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/v1/traces' })

    expect(off).toContain('/dist/main.js')
    expect(chunksHolding(off, sdk)).toEqual([])
    expect(chunksHolding(on, sdk).length).toBeGreaterThan(0)
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
