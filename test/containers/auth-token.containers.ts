import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docker, inspect, requireEngine } from './support/engine.js'
import { APP, createStack, DB, ROOT, type Stack } from './support/stack.js'

// docker-compose.auth-token.yaml on a real engine: the image built from the Dockerfile as shipped (under a
// name of this run's own), the stack brought up with the overlay, the token a Compose secret.
const IMAGE = `ctera-test-auth-token-${process.pid}`
const TOKEN = randomBytes(32).toString('hex')
let dir: string
let stack: Stack | undefined
let ready = false

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctera-containers-token-'))
  // Mode 0644: Compose mounts a file secret with the host file's mode, and the app runs as uid 1000.
  for (const [name, value] of [
    ['db_password.txt', randomBytes(16).toString('hex')],
    ['db_admin_password.txt', randomBytes(16).toString('hex')],
    ['auth_token.txt', TOKEN],
  ] as const)
    writeFileSync(join(dir, name), `${value}\n`, { mode: 0o644 })
})

afterAll(async () => {
  await stack
    ?.compose(['down', '--volumes', '--remove-orphans'])
    .catch((error: Error) => console.error(`cleanup failed: ${error.message}`))
  await docker(['image', 'rm', '--force', IMAGE]).catch(() => undefined)
  rmSync(dir, { recursive: true, force: true })
}, 300_000)

function up(): Stack {
  if (!stack || !ready) throw new Error('the compose stack is not up: an earlier step failed')
  return stack
}

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${up().url}${path}`, { headers, signal: AbortSignal.timeout(10_000) })
  return {
    status: response.status,
    body: await response.text(),
    challenge: response.headers.get('www-authenticate'),
  }
}

describe('docker-compose.auth-token.yaml on a real engine', () => {
  it('builds the image and brings the stack up with the overlay; the health check passes without the token', async () => {
    await requireEngine()
    await docker(['build', '--tag', IMAGE, '.'], { cwd: ROOT, timeoutMs: 900_000 })
    stack = await createStack(dir, { overlays: ['docker-compose.auth-token.yaml'], image: IMAGE })
    await stack.compose(['up', '--detach', '--no-build'])
    await stack.waitHealthy()
    ready = true

    expect((await inspect(await up().container(APP))).State.Health?.Status).toBe('healthy')
  })

  it('mounts the token as a secret file and asks for it beyond the seed: 401 without, 200 with', async () => {
    const app = await up().container(APP)
    const mounted = await docker(['exec', app, 'cat', '/run/secrets/auth_token'])
    const bearer = { authorization: `Bearer ${TOKEN}` }

    const health = await get('/health')
    const tables = await get('/number_of_tables')
    const metrics = await get('/metrics')
    const metricsWithToken = await get('/metrics', bearer)

    expect(mounted.trim() === TOKEN).toBe(true)
    expect(health).toMatchObject({ status: 200, body: '{"container":"ctera-app","status":"Healthy!"}\n' })
    expect(tables.status).toBe(200)
    expect(metrics).toMatchObject({ status: 401, challenge: 'Bearer realm="ctera-app"' })
    expect(metricsWithToken.status).toBe(200)
    expect(metricsWithToken.body).toContain('db_up 1')
  })

  it('the token appears in no docker inspect output, environment or log', async () => {
    const places: Record<string, string> = {}
    for (const service of [APP, DB]) {
      const id = await up().container(service)
      places[`docker inspect ${service}`] = await docker(['inspect', id])
      places[`docker logs ${service}`] = await up().logs(service)
      places[`env of ${service}`] = await docker(['exec', id, 'env'])
    }

    expect(Object.keys(places)).toHaveLength(6)
    expect(
      Object.entries(places)
        .filter(([, text]) => text.includes(TOKEN))
        .map(([place]) => place),
    ).toEqual([])
  })
})
