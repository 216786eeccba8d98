import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { auditServer } from 'graphql-http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type ContainerFigures, writeFigures } from '../support/container-figures.js'
import { exchange, SEED_ALLOW, seedBody } from '../support/seed-bytes.js'
import { DOCKER, docker, inspect, recordEvents, requireEngine, run } from './support/engine.js'
import { buildImage, imageBytes, ownLayers, runtimeBase } from './support/image.js'
import { coldStart, execNode, residentBytes } from './support/measure.js'
import {
  APP,
  createStack,
  DB,
  npmRun,
  overrideComposeFile,
  readComposeFile,
  removeLeftoverStacks,
  type Stack,
} from './support/stack.js'

// The real engine on the real files: the image is built from the Dockerfile as shipped, and
// docker-compose.yaml runs with only the override described in support/stack.ts. The tests run in order
// on one stack, as an operator would: up, check, restart the database, down and up again, stop.

// The seed's bytes: Flask's jsonify closes every body with a newline.
const SEED_HEALTHY = '{"container":"ctera-app","status":"Healthy!"}\n'
const SEED_UNHEALTHY = '{"container":"ctera-app","status":"Unhealthy"}\n'
const SECRET_NAMES = ['db_password', 'db_admin_password']

let dir: string
let stack: Stack | undefined
let ready = false
let recorder: ReturnType<typeof recordEvents> | undefined
let passwords: string[] = []
const timings: Record<string, number> = {}
// What the suite measures, written to docs/measurements/containers.json and docs/measurements.md at the end.
const figures: Partial<ContainerFigures> = {}
const suiteStarted = Date.now()
const OWN_LAYERS_LIMIT_BYTES = 10_000_000

function eventsOf(service: string, action?: string) {
  return (recorder?.events ?? []).filter(
    (event) =>
      event.Actor.Attributes['com.docker.compose.service'] === service &&
      (action === undefined || event.Action === action),
  )
}

/** The event stream lags the commands a little: waits (bounded) until the condition holds. */
async function until(condition: () => boolean, timeoutMs: number) {
  const started = Date.now()
  while (!condition() && Date.now() - started < timeoutMs) await new Promise((wait) => setTimeout(wait, 200))
}

async function get(path: string) {
  const response = await fetch(`${up().url}${path}`, { signal: AbortSignal.timeout(10_000) })
  return { status: response.status, body: await response.text() }
}

async function untilHealth(status: number, timeoutMs: number) {
  const started = Date.now()
  let last = { status: 0, body: '' }
  while (Date.now() - started < timeoutMs) {
    last = await get('/health').catch((error: Error) => ({ status: 0, body: error.message }))
    if (last.status === status) return last
    await new Promise((wait) => setTimeout(wait, 500))
  }
  throw new Error(
    `/health did not answer ${status} within ${timeoutMs} ms; last: ${last.status} ${last.body}`,
  )
}

/** The running stack; every check after the bring-up needs it, and says so when an earlier step failed. */
function up(): Stack {
  if (!stack || !ready) throw new Error('the compose stack is not up: an earlier step failed')
  return stack
}

/** Where a password shows up: docker inspect, the containers' environment, the app's own process, logs. */
async function passwordLeaks(): Promise<string[]> {
  const places: Record<string, string> = {}
  for (const service of [APP, DB]) {
    const id = await up().container(service)
    places[`docker inspect ${service}`] = await docker(['inspect', id])
    places[`docker logs ${service}`] = await up().logs(service)
  }
  // The app's image has no shell, env or cat: its own node reads the same things.
  const db = await up().container(DB)
  if ((await inspect(db)).State.Running) places[`env of ${DB}`] = await docker(['exec', db, 'env'])
  const app = await up().container(APP)
  if ((await inspect(app)).State.Running) {
    places[`env of ${APP}`] = await execNode(app, 'process.stdout.write(JSON.stringify(process.env))')
    places['environment of the app process'] = await execNode(
      app,
      "process.stdout.write(require('fs').readFileSync('/proc/1/environ'))",
    )
  }
  return Object.entries(places)
    .filter(([, text]) => passwords.some((password) => text.includes(password)))
    .map(([place]) => place)
}

// Set-up steps are tests, not hooks: a failing hook would leave every check "skipped", while a failing
// step here is counted as a failure, and so is every check that needed it.
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctera-containers-'))
})

afterEach(async ({ task }) => {
  if (task.result?.state !== 'fail' || !stack) return
  for (const service of [APP, DB]) {
    // The stack's own logs, also when a step left it not `ready` (that is when they are needed most).
    const logs = await stack.logs(service).catch((error: Error) => error.message)
    console.error(`---- ${service} logs (last 40 lines)\n${logs.split('\n').slice(-40).join('\n')}`)
  }
})

afterAll(async () => {
  recorder?.stop()
  // A stack this cannot remove is removed by the next run (removeLeftoverStacks).
  await stack
    ?.compose(['down', '--volumes', '--remove-orphans'])
    .catch((error: Error) => console.error(`cleanup failed: ${error.message}`))
  rmSync(dir, { recursive: true, force: true })
  console.info(`container suite timings: ${JSON.stringify(timings)}`)
  figures.suiteSeconds = (Date.now() - suiteStarted) / 1000
  // Only a complete set is written: a run that failed part-way leaves the committed figures as they were.
  const complete = [
    figures.image,
    figures.base,
    figures.coldStartSeconds,
    figures.residentBytesAfterTraffic,
    figures.upToHealthySeconds,
  ].every((value) => value !== undefined)
  if (complete) writeFigures(figures as ContainerFigures)
  else console.info('container figures not written: the run did not measure them all')
}, 300_000)

describe('docker-compose.yaml on a real engine', () => {
  it('a Docker engine answers (npm run containers:setup leaves one), and stacks of killed runs are removed', async () => {
    await requireEngine()
    await removeLeftoverStacks()
  })

  it('`npm run secret:decrypt` with a passphrase writes the password files back from their .gpg copies', async () => {
    // Fresh passwords encrypted with a test passphrase: the committed .gpg files are never touched.
    const env = { SECRET_DIR: dir, DB_SECRET_PASSPHRASE: randomBytes(12).toString('hex') }
    const made = await npmRun('secret:new', env)
    for (const name of SECRET_NAMES) unlinkSync(join(dir, `${name}.txt`))

    const decrypted = await npmRun('secret:decrypt', env)
    passwords = SECRET_NAMES.map((name) => readFileSync(join(dir, `${name}.txt`), 'utf8').trim())

    expect(made.status, made.stderr).toBe(0)
    expect(decrypted.status, decrypted.stderr).toBe(0)
    for (const name of SECRET_NAMES) expect(statSync(join(dir, `${name}.txt`)).mode & 0o777).toBe(0o644)
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/)
  })

  it('builds the image from the Dockerfile as shipped (a stand-in base: without its digest, nothing else changed)', async () => {
    const started = Date.now()
    const { file, shipped } = await buildImage(APP, dir)
    timings.buildMs = Date.now() - started
    const base = await runtimeBase(shipped)
    const built = readFileSync(file, 'utf8')
    const user = await docker(['image', 'inspect', APP, '--format', '{{.Config.User}}'])
    figures.machine = {
      cpus: cpus().length,
      loadAverage: loadavg()[0] ?? 0,
      engine: `Docker ${(await docker(['version', '--format', '{{.Server.Version}}'])).trim()}`,
    }
    figures.measuredAt = new Date().toISOString()
    figures.buildSeconds = timings.buildMs / 1000
    figures.base = { reference: base.reference, standIn: base.standIn, bytes: await imageBytes(base.local) }
    const layers = await ownLayers(APP, base.local)
    figures.image = {
      bytes: await imageBytes(APP),
      ownLayers: layers,
      ownLayersBytes: layers.reduce((sum, layer) => sum + layer.bytes, 0),
    }

    const digest = base.reference.split('@')[1]
    expect(built).toBe(base.standIn && digest ? shipped.replace(`@${digest}`, '') : shipped)
    expect(user.trim()).toBe('1000:1000')
    // A cold build (npm ci in the build stage) on a busy machine can take minutes: as long as docker may.
  }, 900_000)

  it('the layers the image adds to its base total at most 10 MB: the bundle, no node_modules', async () => {
    const own = figures.image?.ownLayersBytes ?? Number.POSITIVE_INFINITY
    const files = await docker([
      'run',
      '--rm',
      '--entrypoint',
      'node',
      APP,
      '-e',
      "process.stdout.write(JSON.stringify([require('fs').readdirSync('/app'), require('fs').readdirSync('/app/dist')]))",
    ])
    const [app, dist] = JSON.parse(files) as [string[], string[]]

    expect(own).toBeLessThanOrEqual(OWN_LAYERS_LIMIT_BYTES)
    expect(app.sort()).toEqual(['dist', 'package.json'])
    expect(dist).toContain('main.js')
    expect(dist).toContain('main.js.map')
    expect(dist).toContain('graphiql-assets.json')
  })

  it('the runtime image has no shell and no package manager', async () => {
    const tools: Array<[string, string[]]> = [
      ['/bin/sh', ['-c', 'true']],
      ['/bin/bash', ['-c', 'true']],
      ['/usr/bin/apt-get', ['--version']],
      ['/usr/bin/dpkg', ['--version']],
      ['/usr/local/bin/npm', ['--version']],
    ]
    const runs = await Promise.all(
      tools.map(async ([path, args]) =>
        (await run(DOCKER, ['run', '--rm', '--entrypoint', path, APP, ...args])).status === 0 ? path : '',
      ),
    )

    expect(runs.filter(Boolean)).toEqual([])
  })

  it('brings the stack up from docker-compose.yaml; both services become healthy', async () => {
    const created = await createStack(dir)
    stack = created
    recorder = recordEvents(created.project)
    const started = Date.now()
    // Compose v1 has no --wait: `up -d` returns once the app has started, after the database was healthy.
    await created.compose(['up', '--detach', '--no-build'])
    await created.waitHealthy()
    timings.upToHealthyMs = Date.now() - started
    figures.upToHealthySeconds = timings.upToHealthyMs / 1000
    ready = true
  })

  it('is run with only the documented override: project name, published port, secret files', () => {
    const original = readComposeFile()
    const copy = overrideComposeFile(original, { port: up().port, secretsDir: dir })
    const restored = structuredClone(copy)
    restored.name = original.name
    const app = restored.services[APP]
    if (app) app.ports = original.services[APP]?.ports
    for (const [name, secret] of Object.entries(restored.secrets)) {
      secret.file = original.secrets[name]?.file ?? ''
    }

    expect(restored).toEqual(original)
    expect(copy.services[APP]?.ports).toEqual([`127.0.0.1:${up().port}:5001`])
  })

  it('compose mounts the decrypted password file, and the app logs in with it', async () => {
    const app = await up().container(APP)
    const mounted = await execNode(
      app,
      "process.stdout.write(require('fs').readFileSync('/run/secrets/db_password'))",
    )

    expect(mounted.trim() === passwords[0]).toBe(true)
    // The role's password was set from the same file by the init script: a healthy answer proves the login.
    expect((await get('/health')).status).toBe(200)
  })

  it('both services reach healthy through their own health checks; the app started after the database was healthy', async () => {
    const app = await inspect(await up().container(APP))
    const db = await inspect(await up().container(DB))
    const [dbHealthy] = eventsOf(DB, 'health_status: healthy')
    const [appStarted] = eventsOf(APP, 'start')

    expect(app.State.Health?.Status).toBe('healthy')
    expect(db.State.Health?.Status).toBe('healthy')
    expect(app.Config.Healthcheck?.Test).toEqual(['CMD', 'node', 'dist/healthcheck.js'])
    expect(db.Config.Healthcheck?.Test.join(' ')).toContain('pg_isready')
    expect(dbHealthy).toBeDefined()
    expect(appStarted).toBeDefined()
    expect(appStarted?.timeNano).toBeGreaterThan(dbHealthy?.timeNano ?? Number.POSITIVE_INFINITY)
  })

  it("GET /health answers 200 with the seed's body through the published port", async () => {
    const health = await get('/health')

    expect(health).toEqual({ status: 200, body: SEED_HEALTHY })
  })

  it('GET /number_of_tables and a GraphQL query answer through the published port', async () => {
    const tables = await get('/number_of_tables')
    const graphql = await fetch(`${up().url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { healthy status container } numberOfTables }' }),
      signal: AbortSignal.timeout(10_000),
    })
    const { data } = (await graphql.json()) as {
      data: { health: { healthy: boolean; status: string; container: string }; numberOfTables: number }
    }

    expect(tables.status).toBe(200)
    expect(tables.body).toMatch(/^\{"number_of_tables":"\d+"\}\n$/)
    expect(graphql.status).toBe(200)
    expect(data.health).toEqual({ healthy: true, status: 'Healthy!', container: 'ctera-app' })
    expect(data.numberOfTables).toBe(Number(JSON.parse(tables.body).number_of_tables))
  })

  it("answers with the seed's bytes through the image (test/seed-bytes.test.ts's checks)", async () => {
    const health = await exchange(up().url, 'GET', '/health')
    const tables = await exchange(up().url, 'GET', '/number_of_tables')
    const options = await exchange(up().url, 'OPTIONS', '/health')
    const head = await exchange(up().url, 'HEAD', '/health')
    const post = await exchange(up().url, 'POST', '/health')
    const missing = await exchange(up().url, 'GET', '/nope')
    const recordedTables = seedBody('GET /number_of_tables           (database up', APP)

    expect(health.status).toBe(200)
    expect(health.headers['content-type']).toBe('application/json')
    expect(health.body.toString('utf8')).toBe(seedBody('GET /health                     (database up)', APP))
    expect(tables.headers['content-type']).toBe('application/json')
    expect(tables.body.toString('utf8').replace(/\d+/, 'N')).toBe(recordedTables.replace(/\d+/, 'N'))
    expect([options.status, options.headers.allow, options.body.length]).toEqual([200, SEED_ALLOW, 0])
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([
      200,
      health.headers['content-length'],
      0,
    ])
    expect([post.status, post.headers.allow]).toEqual([405, SEED_ALLOW])
    expect(missing.body.toString('utf8')).toBe('{"code":"NOT_FOUND","error":"Not Found"}\n')
  })

  it('passes the graphql-http audit through the image: every MUST and every SHOULD', async () => {
    const results = await auditServer({ url: `${up().url}/graphql` })
    const failed = results
      .filter((result) => result.status !== 'ok')
      .map((result) => `${result.status} ${result.name}: ${'reason' in result ? result.reason : ''}`)

    expect(results.filter((result) => result.name.startsWith('MUST')).length).toBeGreaterThan(10)
    expect(failed).toEqual([])
  })

  it("serves GraphiQL from the bundle's prebuilt assets", async () => {
    const page = await fetch(`${up().url}/graphql`, {
      headers: { accept: 'text/html' },
      signal: AbortSignal.timeout(30_000),
    })
    const html = await page.text()
    const script = html.match(/<script src="(\/graphiql\/graphiql\.[0-9a-f]{16}\.js)"/)?.[1] ?? ''
    const asset = await fetch(`${up().url}${script}`, { signal: AbortSignal.timeout(30_000) })
    const code = await asset.text()

    expect(page.status).toBe(200)
    expect(script).not.toBe('')
    expect(asset.status).toBe(200)
    expect(code).toContain('renderYogaGraphiQL')
  })

  it('a stack in the log points at src/ (source maps ship and node reads them)', async () => {
    // An operator's mistake the service cannot foresee (as in test/hardening/error-hygiene.test.ts): the
    // role loses a function a query uses, and the unexpected error is logged with its stack.
    await up().sql('REVOKE EXECUTE ON FUNCTION pg_database_size(name) FROM PUBLIC')
    const answer = await fetch(`${up().url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ database { name sizeBytes } }' }),
      signal: AbortSignal.timeout(10_000),
    }).then((response) => response.text())
    await up().sql('GRANT EXECUTE ON FUNCTION pg_database_size(name) TO PUBLIC')
    let stack = ''
    for (let attempt = 0; attempt < 20 && !stack; attempt++) {
      const logs = (await up().logs(APP))
        .split('\n')
        .filter((line) => line.startsWith('{') && line.includes('"stack"'))
      stack = logs
        .map((line) => (JSON.parse(line) as { err?: { stack?: string } }).err?.stack ?? '')
        .join('\n')
      if (!stack) await new Promise((wait) => setTimeout(wait, 250))
    }

    console.info(`a logged stack, through the source maps:\n${stack.split('\n').slice(0, 6).join('\n')}`)
    expect(answer).toContain('Unexpected error.')
    // Our frames by their TypeScript source (the error itself starts in pg, at /app/node_modules/pg/…).
    expect(stack).toMatch(/\/app\/src\/[^\s:]+\.ts:\d+:\d+/)
    expect(stack).not.toMatch(/\/app\/dist\/[^\s:]+\.js:\d+/)
  })

  it('measures the cold start: from `docker run` to the first 200 from /health, database up', async () => {
    const runs: number[] = []
    for (let count = 0; count < 3; count++) {
      runs.push(await coldStart({ image: APP, project: up().project, secretsDir: dir }))
    }
    figures.coldStartSeconds = runs

    expect(runs.every((seconds) => seconds > 0 && Number.isFinite(seconds))).toBe(true)
  })

  it('measures resident memory of the app after the traffic above', async () => {
    const bytes = await residentBytes(await up().container(APP))
    figures.residentBytesAfterTraffic = bytes

    // Under the 224 MB ceiling of docs/security.md.
    expect(bytes).toBeGreaterThan(0)
    expect(bytes).toBeLessThan(224 * 1024 * 1024)
  })

  it('runs the app as a non-root uid, on a read-only root file system, with no capabilities', async () => {
    const id = await up().container(APP)
    const app = await inspect(id)
    const read = (path: string) => execNode(id, `process.stdout.write(require('fs').readFileSync('${path}'))`)
    const status = await read('/proc/1/status')
    const field = (name: string) => status.match(new RegExp(`^${name}:\\s*(.+)$`, 'm'))?.[1]?.trim()
    const rootMount = (await read('/proc/1/mounts')).split('\n').find((line) => line.split(' ')[1] === '/')
    // Even root inside the container cannot write there (no touch in the image: its node writes).
    const write = await run(DOCKER, [
      'exec',
      '--user',
      '0',
      id,
      'node',
      '-e',
      "require('fs').writeFileSync('/written-by-root', '')",
    ])

    expect(field('Uid')).toBe('1000\t1000\t1000\t1000')
    expect(app.Config.User).toBe('1000:1000')
    for (const caps of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
      expect(field(caps), caps).toBe('0000000000000000')
    }
    expect(field('NoNewPrivs')).toBe('1')
    expect(app.HostConfig.ReadonlyRootfs).toBe(true)
    expect(rootMount?.split(' ')[3]?.split(',')).toContain('ro')
    expect(write.status).not.toBe(0)
    expect(write.stderr).toMatch(/EROFS: read-only file system/)
  })

  it('the init script made the least-privilege role ctera (it cannot create a table), and the app connects as it', async () => {
    const role = await up().sql(
      `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,
              pg_has_role('ctera', 'pg_monitor', 'MEMBER'),
              (SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting WHERE setrole = 'ctera'::regrole)
         FROM pg_roles WHERE rolname = 'ctera'`,
    )
    // Over the database container's own socket (trusted there), as ctera, asking for a read-write transaction.
    const write = await run(DOCKER, [
      'exec',
      await up().container(DB),
      'psql',
      '--no-psqlrc',
      '-U',
      'ctera',
      '-d',
      'ctera',
      '-c',
      'BEGIN READ WRITE; CREATE TABLE written_by_ctera (id int); COMMIT',
    ])
    await get('/number_of_tables')
    const users = await up().sql(
      "SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity WHERE application_name = 'ctera-app'",
    )

    const [superuser, createdb, createrole, replication, bypassrls, monitor, settings] = role.split('|')
    expect([superuser, createdb, createrole, replication, bypassrls]).toEqual(['f', 'f', 'f', 'f', 'f'])
    expect(monitor).toBe('t')
    expect(settings?.split(',')).toContain('default_transaction_read_only=on')
    expect(write.status).not.toBe(0)
    expect(write.stderr).toContain('permission denied for schema public')
    expect(await up().logs(DB)).toContain(
      '10-ctera-monitoring-role: role ctera ready (read-only, pg_monitor)',
    )
    expect(users).toBe('ctera')
  })

  it('the passwords are mounted as files and appear in no docker inspect output, environment or log', async () => {
    const app = await inspect(await up().container(APP))

    expect(app.Mounts.map((mount) => mount.Destination)).toContain('/run/secrets/db_password')
    expect(app.Mounts.map((mount) => mount.Destination)).not.toContain('/run/secrets/db_admin_password')
    expect(await passwordLeaks()).toEqual([])
  })

  it('survives a database restart: 503 while it is down, 200 after, and the app container never restarts', async () => {
    const appId = await up().container(APP)
    const before = await inspect(appId)
    const db = await up().container(DB)

    // The engine's own stop and start: Compose v2's `stop postgres-db` would stop the app with it.
    await docker(['stop', db])
    const whileDown = await untilHealth(503, 30_000)
    await docker(['start', db])
    const afterRestart = await untilHealth(200, 120_000)
    const after = await inspect(appId)

    expect(whileDown.body).toBe(SEED_UNHEALTHY)
    expect(afterRestart.body).toBe(SEED_HEALTHY)
    expect(after.State.Running).toBe(true)
    expect(after.State.StartedAt).toBe(before.State.StartedAt)
    expect(after.RestartCount).toBe(0)
    expect(eventsOf(APP, 'start')).toHaveLength(1)
    expect(eventsOf(APP, 'die')).toHaveLength(0)
  })

  it('keeps the data across `down` and `up` without -v: a table created before is still counted after', async () => {
    const before = Number(JSON.parse((await get('/number_of_tables')).body).number_of_tables)
    // ctera counts only tables it may read (information_schema), so it is granted SELECT on this one.
    await up().sql('CREATE TABLE kept_across_down (id int); GRANT SELECT ON kept_across_down TO ctera')
    const created = Number(JSON.parse((await get('/number_of_tables')).body).number_of_tables)

    const current = up()
    ready = false
    await current.compose(['down'])
    const volumes = await docker(['volume', 'ls', '--quiet', '--filter', `name=${current.project}_db-data`])
    await current.compose(['up', '--detach', '--no-build'])
    await current.waitHealthy()
    ready = true
    const afterUp = await get('/number_of_tables')

    expect(created).toBe(before + 1)
    expect(volumes.trim()).toBe(`${current.project}_db-data`)
    expect(afterUp.status).toBe(200)
    expect(Number(JSON.parse(afterUp.body).number_of_tables)).toBe(before + 1)
    expect(await up().sql("SELECT to_regclass('public.kept_across_down') IS NOT NULL")).toBe('t')
    // The existing data directory was used as it was, not initialised again.
    expect(await up().logs(DB)).not.toContain('init process complete')
  })

  it('`stop` sends SIGTERM and the app exits 0 within its grace period (no SIGKILL)', async () => {
    const id = await up().container(APP)
    const started = Date.now()

    await up().compose(['stop', APP])
    timings.appStopMs = Date.now() - started
    const app = await inspect(id)
    await until(() => eventsOf(APP, 'die').some((event) => event.Actor.ID.startsWith(id)), 10_000)
    const signals = eventsOf(APP, 'kill')
      .filter((event) => event.Actor.ID.startsWith(id))
      .map((event) => event.Actor.Attributes.signal)

    expect(app.State.Running).toBe(false)
    expect(app.State.ExitCode).toBe(0)
    expect(app.State.OOMKilled).toBe(false)
    expect(signals).toEqual(['15'])
  })

  it('the passwords stay out of the logs of the whole run, after the restarts and the stop', async () => {
    expect(await passwordLeaks()).toEqual([])
  })
})
