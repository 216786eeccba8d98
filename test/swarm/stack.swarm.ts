import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { readSwarmStack } from '../../scripts/swarm-stack.js'
import { DOCKER, docker, requireEngine, run } from '../containers/support/engine.js'
import { buildImage } from '../containers/support/image.js'
import { renderFigures, type SwarmFigures, writeFigures } from './support/figures.js'
import {
  count,
  failedOutcome,
  finalOutcome,
  type Load,
  type RequestRecord,
  startLoad,
} from './support/load.js'
import {
  APP,
  DB,
  ensureSwarm,
  overrideStackFile,
  type Replica,
  removeLeftovers,
  removeRunArtefacts,
  removeStack,
  replicas,
  testStackFile,
  uniqueName,
  updateStatus,
  waitFor,
} from './support/swarm.js'

// The stack file of `npm run swarm:stack` on a real swarm (a single node, started here when the engine is in
// none), with the image built from the Dockerfile as shipped. A load client on the stack's overlay network
// keeps asking all along while the tests, in order, roll the app to a new tag, kill a task, release an image
// that never becomes healthy and restart PostgreSQL. The figures go to docs/swarm-figures.json and
// docs/deployment.md.

const NAME = uniqueName()
const NETWORK = `${NAME}_default`
const image = (tag: string) => `${NAME}:${tag}`
const SECRETS = { password: `${NAME}_db_password`, admin: `${NAME}_db_admin_password` }
const CLIENT_DIR = resolve(import.meta.dirname, 'support')
const WORKERS = 3
// The app's own defaults (docs/configuration.md): a live /health check answers within HEALTH_TIMEOUT_MS.
const HEALTH_TIMEOUT_MS = 2000

let dir: string
let leaveSwarm: (() => Promise<void>) | undefined
let deployed = false
let load: Load | undefined
const suiteStarted = Date.now()
let passwords: string[] = []
const figures: Partial<SwarmFigures> = {}

const env = (tag: string) => ({
  CTERA_IMAGE: image(tag),
  CTERA_DB_PASSWORD_SECRET: SECRETS.password,
  CTERA_DB_ADMIN_PASSWORD_SECRET: SECRETS.admin,
})

/** `docker stack deploy` of the test's stack file with the image `tag`. */
function deploy(tag: string) {
  return docker(
    ['stack', 'deploy', '--resolve-image', 'never', '--compose-file', join(dir, 'stack.yaml'), NAME],
    { env: env(tag), timeoutMs: 120_000 },
  )
}

function stackUp(): Load {
  if (!deployed || !load) throw new Error('the stack or its load is not up: an earlier step failed')
  return load
}

/** Waits until `count` healthy replicas of the app run `tag`, and no other; returns them. */
function appConverged(tag: string, timeoutMs: number, count = 3): Promise<Replica[]> {
  let seen: Replica[] = []
  return waitFor(
    `${count} healthy replicas of ${image(tag)}`,
    async () => {
      seen = await replicas(NAME, APP)
      const ok = seen.length === count && seen.every((r) => r.health === 'healthy' && r.image === image(tag))
      return ok ? seen : undefined
    },
    timeoutMs,
    async () => `Replicas: ${JSON.stringify(seen.map((r) => [r.image, r.health]))}`,
  )
}

/** Waits for the app's update started at or after `from` to reach one of `states`. */
async function updateEnds(from: number, states: string[], timeoutMs: number) {
  let last = {}
  return waitFor(
    `the update to reach ${states.join(' or ')}`,
    async () => {
      const status = await updateStatus(NAME, APP)
      last = status
      const started = status.StartedAt ? Date.parse(status.StartedAt) : 0
      if (started < from - 1000 || !status.State) return undefined
      if (states.includes(status.State)) return status
      // Any other end (completed, rollback_completed, paused, rollback_paused) fails at once.
      if (/completed|paused/.test(status.State)) {
        throw new Error(`the update ended otherwise: ${JSON.stringify(status)}`)
      }
      return undefined
    },
    timeoutMs,
    async () => `Last: ${JSON.stringify(last)}`,
  )
}

const pause = (ms: number) => new Promise((wait) => setTimeout(wait, ms))
const served = (records: RequestRecord[]) => records.filter((r) => !failedOutcome(finalOutcome(r)))

function longestGap(records: RequestRecord[], from: number, to: number): number {
  const times = [from, ...served(records).map((r) => r.t + r.ms), to].sort((a, b) => a - b)
  return Math.max(...times.slice(1).map((time, index) => time - (times[index] ?? time)))
}

/** The parts of `docker service inspect` the suite reads. */
interface ServiceInspect {
  Spec: {
    Mode: { Replicated: { Replicas: number } }
    UpdateConfig: Record<string, unknown>
    RollbackConfig: Record<string, unknown>
    EndpointSpec: { Mode: string }
    TaskTemplate: {
      RestartPolicy: Record<string, unknown>
      Resources: { Limits: { MemoryBytes: number; Pids: number } }
      ContainerSpec: {
        Secrets?: Array<{ SecretName: string; File: { Name: string } }>
        ReadOnly: boolean
        CapabilityDrop: string[]
        Mounts: Array<{ Type: string; Target: string }>
        Healthcheck: { Test: string[] }
      }
    }
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctera-swarm-'))
})

afterEach(async ({ task }) => {
  if (task.result?.state !== 'fail') return
  for (const service of [APP, DB]) {
    const logs = await run(DOCKER, ['service', 'logs', '--raw', '--tail', '30', `${NAME}_${service}`], {
      timeoutMs: 30_000,
    })
    console.error(`---- ${service} logs\n${logs.stdout}${logs.stderr}`)
  }
  const tasks = await run(DOCKER, ['stack', 'ps', '--no-trunc', NAME])
  console.error(`---- tasks\n${tasks.stdout}${tasks.stderr}\n---- load client\n${load?.noise() ?? ''}`)
})

afterAll(async () => {
  await load?.stop().catch((error: Error) => console.error(`stopping the load failed: ${error.message}`))
  await removeStack(NAME).catch((error: Error) => console.error(`cleanup failed: ${error.message}`))
  await removeRunArtefacts(NAME).catch((error: Error) => console.error(`cleanup failed: ${error.message}`))
  await leaveSwarm?.().catch((error: Error) => console.error(`leaving the swarm failed: ${error.message}`))
  rmSync(dir, { recursive: true, force: true })
}, 300_000)

describe('the swarm stack (npm run swarm:stack) on a real single-node swarm', () => {
  it('a Docker engine answers and runs a swarm (a single node started here when there is none); runs killed earlier are removed', async () => {
    await requireEngine()
    leaveSwarm = await ensureSwarm()
    await removeLeftovers()

    expect((await docker(['info', '--format', '{{.Swarm.ControlAvailable}}'])).trim()).toBe('true')
  })

  it('builds the image from the Dockerfile as shipped, a second release of it, and a release that never becomes healthy', async () => {
    // As the container suite builds it: a stand-in base without its digest (test/containers/support/image.ts).
    await buildImage(image('v1'), dir)
    // The same build with one more label: another image, as a new release is.
    await buildImage(image('v2'), dir, ['--label', `ctera.release=${NAME}-v2`])
    // A release that asks for TLS to a database that has none: it runs and answers /livez, but never
    // becomes ready, so its health check never passes.
    const badDir = mkdtempSync(join(dir, 'bad-'))
    writeFileSync(join(badDir, 'Dockerfile'), `FROM ${image('v1')}\nENV DB_SSLMODE=require\n`)
    await docker(['build', '--tag', image('bad'), badDir], { timeoutMs: 300_000 })
    const ids = await Promise.all(
      ['v1', 'v2', 'bad'].map(async (tag) =>
        (await docker(['image', 'inspect', '--format', '{{.Id}}', image(tag)])).trim(),
      ),
    )

    expect(new Set(ids).size).toBe(3)
  })

  it('creates the passwords as swarm secrets with `docker secret create`; swarm never gives their values back', async () => {
    const values: string[] = []
    passwords = values
    for (const secret of [SECRETS.password, SECRETS.admin]) {
      const value = randomBytes(24).toString('base64url')
      const file = join(dir, secret)
      writeFileSync(file, value, { mode: 0o600 })
      await docker(['secret', 'create', secret, file])
      values.push(value)
      rmSync(file)
    }
    const inspected = await docker(['secret', 'inspect', SECRETS.password, SECRETS.admin])

    for (const value of values) expect(inspected).not.toContain(value)
    expect(JSON.parse(inspected)).toHaveLength(2)
  })

  it('deploys the stack; the three app replicas and PostgreSQL become healthy', async () => {
    writeFileSync(join(dir, 'stack.yaml'), stringify(testStackFile(), { version: '1.1' }))
    const started = Date.now()
    await deploy('v1')
    await appConverged('v1', 240_000)
    const [db] = await waitFor(
      'a healthy PostgreSQL',
      async () => {
        const found = await replicas(NAME, DB)
        return found.length === 1 && found[0]?.health === 'healthy' ? found : undefined
      },
      120_000,
    )
    figures.deployToHealthyMs = Date.now() - started
    deployed = true

    expect(db?.image).toBe('postgres:17')
  })

  it('is run with only the documented override: dnsrr endpoints, no published port', () => {
    const original = readSwarmStack()
    const copy = overrideStackFile(original)
    const restored = structuredClone(copy)
    for (const service of [APP, DB]) {
      const deployKeys = restored.services[service]?.deploy
      const originalDeploy = original.services[service]?.deploy ?? {}
      if (deployKeys) {
        if ('endpoint_mode' in originalDeploy) deployKeys.endpoint_mode = originalDeploy.endpoint_mode
        else delete deployKeys.endpoint_mode
      }
    }
    const app = restored.services[APP]
    if (app) app.ports = original.services[APP]?.ports

    expect(restored).toEqual(original)
    expect(copy.services[APP]?.deploy?.endpoint_mode).toBe('dnsrr')
    expect(original.services[APP]?.deploy?.endpoint_mode).toBe('vip')
  })

  it('swarm applied the stack file: replicas, update and rollback policy, restart policy, memory limit, secrets, hardening', async () => {
    const [inspected] = JSON.parse(await docker(['service', 'inspect', `${NAME}_${APP}`])) as ServiceInspect[]
    if (!inspected) throw new Error('docker service inspect: no service')
    const service = inspected.Spec
    const task = service.TaskTemplate
    const secret = task.ContainerSpec.Secrets?.[0]

    expect(service.Mode.Replicated.Replicas).toBe(3)
    expect(service.UpdateConfig).toMatchObject({
      Parallelism: 1,
      Order: 'start-first',
      FailureAction: 'rollback',
      Monitor: 15e9,
      MaxFailureRatio: 0,
    })
    expect(service.RollbackConfig).toMatchObject({ Parallelism: 1, Order: 'start-first', Monitor: 15e9 })
    expect(task.RestartPolicy).toMatchObject({ Condition: 'any', Delay: 2e9 })
    expect(task.Resources.Limits.MemoryBytes).toBe(256 * 1024 * 1024)
    expect(task.Resources.Limits.Pids).toBe(128)
    expect(secret).toMatchObject({ SecretName: SECRETS.password, File: { Name: 'db_password' } })
    expect(task.ContainerSpec.Secrets).toHaveLength(1)
    expect(task.ContainerSpec.ReadOnly).toBe(true)
    expect(task.ContainerSpec.CapabilityDrop).toEqual(['ALL'])
    expect(task.ContainerSpec.Mounts).toContainEqual(
      expect.objectContaining({ Type: 'tmpfs', Target: '/tmp' }),
    )
    // Ready first (the rollout's gate), alive from then on.
    expect(task.ContainerSpec.Healthcheck.Test.join(' ')).toMatch(/'livez' : 'readyz'/)
    expect(service.EndpointSpec.Mode).toBe('dnsrr')
  })

  it('a client container on the overlay network reaches all three replicas', async () => {
    load = startLoad({
      name: `${NAME}-load`,
      network: NETWORK,
      image: image('v1'),
      clientDir: CLIENT_DIR,
      target: APP,
    })
    const current = stackUp()
    const answering = await waitFor(
      'answers from three replicas',
      async () => {
        const names = new Set(
          current.records.filter((r) => r.status === 200 && r.replica).map((r) => r.replica),
        )
        return names.size === 3 ? names : undefined
      },
      60_000,
      async () => current.noise(),
    )
    const health = current.records.find((r) => r.path === '/health' && r.status === 200)

    expect(answering.size).toBe(3)
    expect(health).toBeDefined()
  })

  it('rolls the app to a new image tag: every request answered, all three new replicas healthy', async () => {
    const current = stackUp()
    const before = await replicas(NAME, APP)
    const from = Date.now()
    await deploy('v2')
    const status = await updateEnds(from, ['completed'], 300_000)
    const after = await appConverged('v2', 60_000)
    await pause(2000)
    const records = current.between(from, Date.now())
    const counts = count(records)
    figures.rollout = {
      ms: Date.parse(status.CompletedAt ?? '') - Date.parse(status.StartedAt ?? ''),
      ...counts,
    }

    expect(status.State).toBe('completed')
    expect(after.map((r) => r.container)).not.toEqual(expect.arrayContaining(before.map((r) => r.container)))
    expect(after.every((r) => r.health === 'healthy')).toBe(true)
    expect(counts.requests).toBeGreaterThan(50)
    expect(records.filter((r) => failedOutcome(finalOutcome(r)))).toEqual([])
  })

  it('kills one task: swarm replaces it; the load loses only requests to that task, each answered on the retry', async () => {
    const current = stackUp()
    const [victim, ...others] = await replicas(NAME, APP)
    if (!victim) throw new Error('no replica to kill')
    const from = Date.now()
    await docker(['kill', victim.container])
    const after = await waitFor(
      'a replacement of the killed task, healthy',
      async () => {
        const found = await replicas(NAME, APP)
        const ok =
          found.length === 3 && found.every((r) => r.health === 'healthy' && r.container !== victim.container)
        return ok ? found : undefined
      },
      120_000,
    )
    const replaceMs = Date.now() - from
    await pause(2000)
    const records = current.between(from - 1000, Date.now())
    const lost = records.filter((r) => failedOutcome(r))
    const counts = count(records)
    figures.kill = { replaceMs, firstTriesLost: lost.length, ...counts }

    expect(after.map((r) => r.container)).toEqual(expect.arrayContaining(others.map((r) => r.container)))
    expect(records.filter((r) => failedOutcome(finalOutcome(r)))).toEqual([])
    expect(lost.filter((r) => r.addr !== victim.address)).toEqual([])
    // At most what each worker had in flight when the task died (the client then leaves the address out).
    expect(lost.length).toBeLessThanOrEqual(WORKERS)
  })

  it('a release that never becomes healthy rolls back by itself, and the service never stops', async () => {
    const current = stackUp()
    const before = await replicas(NAME, APP)
    const from = Date.now()
    await deploy('bad')
    const status = await updateEnds(from, ['rollback_completed'], 300_000)
    // Back on the release that ran before (the second one, unless the roll step failed).
    const after = await appConverged(before[0]?.image.split(':').pop() ?? 'v2', 60_000)
    const to = Date.now()
    const records = current.between(from, to)
    const counts = count(records)
    const gap = longestGap(records, from, to)
    figures.badRelease = {
      rollbackMs: Date.parse(status.CompletedAt ?? '') - from,
      longestGapMs: gap,
      ...counts,
    }

    expect(status.State).toBe('rollback_completed')
    // Every replica runs the release from before, healthy (appConverged). Not necessarily the same containers:
    // on a machine with both cores busy, the swarm once replaced a good replica whose own check timed out
    // during the bad release (its restart policy at work), which is not what this step is about.
    expect(after.map((r) => r.image)).toEqual(before.map((r) => r.image))
    expect(records.filter((r) => failedOutcome(finalOutcome(r)))).toEqual([])
    // Answers kept coming all along: never a pause as long as the client's own request timeout.
    expect(gap).toBeLessThan(3000)
  })

  it('stops PostgreSQL for longer than the health check tolerates, then starts it: every replica answers 503 at once, then 200 again, and no app task restarts', async () => {
    const current = stackUp()
    const appBefore = await replicas(NAME, APP)
    const [dbBefore] = await replicas(NAME, DB)
    if (!dbBefore) throw new Error('no PostgreSQL task')
    const check = testStackFile().services[APP]?.healthcheck as { interval: string; retries: number }
    // Longer than `retries` failed checks `interval` apart: a check that asked the database would have every
    // replica replaced by now.
    expect(check.interval).toMatch(/^\d+s$/)
    const downMs = Number.parseInt(check.interval, 10) * 1000 * check.retries + 5000
    const from = Date.now()
    await docker(['service', 'scale', '--detach', `${NAME}_${DB}=0`])
    await waitFor(
      'PostgreSQL to stop',
      async () => ((await replicas(NAME, DB)).length === 0 ? true : undefined),
      60_000,
    )
    // Scaling to 0 removes the task's container: the moment it was seen gone stands for the stop.
    const stopped = Date.now()
    await pause(downMs)
    await docker(['service', 'scale', '--detach', `${NAME}_${DB}=1`])
    const [dbAfter] = await waitFor(
      'a new, healthy PostgreSQL task',
      async () => {
        const found = await replicas(NAME, DB)
        return found.length === 1 &&
          found[0]?.container !== dbBefore.container &&
          found[0]?.health === 'healthy'
          ? found
          : undefined
      },
      120_000,
    )
    const back = await waitFor(
      'a 200 from every replica after the restart',
      async () => {
        const started = Date.parse(dbAfter?.startedAt ?? '')
        const answered = new Set(
          current.records
            .filter((r) => r.t >= started && r.path === '/health' && r.status === 200 && r.replica)
            .map((r) => r.replica),
        )
        return answered.size === appBefore.length ? answered : undefined
      },
      60_000,
    )
    const to = Date.now()
    const appAfter = await replicas(NAME, APP)
    const restarted = Date.parse(dbAfter?.startedAt ?? '')
    const records = current.between(from, to)
    const health = records.filter((r) => r.path === '/health')
    const byReplica = new Map<string, RequestRecord[]>()
    for (const record of health) {
      if (!record.replica) continue
      byReplica.set(record.replica, [...(byReplica.get(record.replica) ?? []), record])
    }
    const first503 = [...byReplica.values()].map((rs) => rs.find((r) => r.status === 503))
    const last503 = Math.max(...health.filter((r) => r.status === 503).map((r) => r.t + r.ms))
    const outageStart = Math.min(...first503.map((r) => (r ? r.t + r.ms : Number.POSITIVE_INFINITY)))
    const back200 = [...byReplica.values()].map((rs) => rs.find((r) => r.status === 200 && r.t >= restarted))
    const counts = count(records)
    figures.databaseRestart = {
      ...counts,
      answered503: records.filter((r) => finalOutcome(r).status === 503).length,
      outageMs: last503 - outageStart,
      databaseDownMs: restarted - stopped,
      first503AfterFirstMs: first503.map((r) => (r ? r.t + r.ms - outageStart : Number.NaN)),
      back200Ms: back200.map((r) => (r ? r.t + r.ms - restarted : Number.NaN)),
    }

    expect(back.size).toBe(3)
    expect(byReplica.size).toBe(3)
    expect(first503.every((r) => r !== undefined)).toBe(true)
    // /health asks the database on every call: each replica says 503 on its next /health request once the
    // database is gone (the client asks each one about twice a second), within HEALTH_TIMEOUT_MS at worst.
    for (const ms of figures.databaseRestart.first503AfterFirstMs) {
      expect(ms).toBeLessThan(HEALTH_TIMEOUT_MS + 3000)
    }
    // Every request got an answer (200 or 503), never a reset or a timeout.
    expect(records.filter((r) => finalOutcome(r).error !== undefined)).toEqual([])
    expect(appAfter.map((r) => [r.container, r.startedAt, r.restarts]).sort()).toEqual(
      appBefore.map((r) => [r.container, r.startedAt, r.restarts]).sort(),
    )
  })

  // docker inspect holds each container's environment (a distroless image has no `env` to exec).
  it('the passwords appear in no service spec, container inspect (environment included) or log', async () => {
    stackUp()
    const places: Record<string, string> = {}
    for (const service of [APP, DB]) {
      places[`docker service inspect ${service}`] = await docker(['service', 'inspect', `${NAME}_${service}`])
      // Each container's own log: `docker service logs` can wait on the logs of removed tasks.
      for (const replica of await replicas(NAME, service)) {
        places[`docker inspect ${replica.task}`] = await docker(['inspect', replica.container])
        const logs = await run(DOCKER, ['logs', replica.container])
        places[`docker logs ${replica.task}`] = `${logs.stdout}${logs.stderr}`
      }
    }
    const leaks = Object.entries(places)
      .filter(([, text]) => passwords.some((password) => text.includes(password)))
      .map(([place]) => place)

    expect(passwords).toHaveLength(2)
    expect(Object.keys(places).length).toBe(2 + 2 * 4)
    expect(leaks).toEqual([])
  })

  it('writes the figures to docs/swarm-figures.json and docs/deployment.md, only when every step passed', async ({
    task,
  }) => {
    const failedSteps =
      task.suite?.tasks.filter((step) => step !== task && step.result?.state !== 'pass') ?? []
    expect(failedSteps.map((step) => step.name)).toEqual([])
    const engine = (await docker(['version', '--format', '{{.Server.Version}}'])).trim()
    const complete: SwarmFigures = {
      measured: new Date().toISOString().slice(0, 10),
      engine: `Docker ${engine}`,
      deployToHealthyMs: figures.deployToHealthyMs ?? Number.NaN,
      rollout: figures.rollout as SwarmFigures['rollout'],
      kill: figures.kill as SwarmFigures['kill'],
      badRelease: figures.badRelease as SwarmFigures['badRelease'],
      databaseRestart: figures.databaseRestart as SwarmFigures['databaseRestart'],
      suiteMs: Date.now() - suiteStarted,
    }
    for (const [step, value] of Object.entries(complete)) expect(value, step).toBeDefined()
    console.info(`swarm suite figures: ${JSON.stringify(complete)}`)
    writeFigures(complete)

    expect(renderFigures(complete)).toContain('Roll to a new image tag')
  })
})
