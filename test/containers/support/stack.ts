import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { parse, stringify } from 'yaml'
import { findFreePort } from '../../../src/net/free-port.js'
import { DOCKER, docker, findCompose, inspect, run, runOrThrow } from './engine.js'

export const ROOT = resolve(import.meta.dirname, '../../..')
export const APP = 'ctera-app'
export const DB = 'postgres-db'
export const PROJECT_PREFIX = 'ctera-test-'

type ComposeFile = {
  name?: string
  services: Record<string, { ports?: string[]; [key: string]: unknown }>
  secrets: Record<string, { file: string }>
  [key: string]: unknown
}

export function readComposeFile(file = join(ROOT, 'docker-compose.yaml')): ComposeFile {
  return parse(readFileSync(file, 'utf8')) as ComposeFile
}

/**
 * The only changes the suite makes to docker-compose.yaml, written to a copy (the original is untouched):
 *  - no top-level `name:`: the project name is passed with -p instead (Compose v1 rejects the key, and a
 *    unique name keeps a second run or a leftover stack apart);
 *  - the app published on a free port of 127.0.0.1 instead of 5001;
 *  - the secrets read from the test's own password files, so the checkout's files are never touched.
 */
export function overrideComposeFile(
  original: ComposeFile,
  change: { port: number; secretsDir: string },
): ComposeFile {
  const copy = structuredClone(original)
  delete copy.name
  const app = copy.services[APP]
  if (app) app.ports = [`127.0.0.1:${change.port}:5001`]
  for (const secret of Object.values(copy.secrets)) {
    secret.file = join(change.secretsDir, basename(secret.file))
  }
  return copy
}

export interface Stack {
  project: string
  port: number
  url: string
  compose(args: string[], timeoutMs?: number): Promise<string>
  /** The container id of a service, running or stopped. */
  container(service: string): Promise<string>
  /** Waits until both services report Docker's `healthy`. */
  waitHealthy(timeoutMs?: number): Promise<void>
  /** SQL as the superuser, through psql inside the database container; returns psql's unaligned rows. */
  sql(statement: string): Promise<string>
  logs(service: string): Promise<string>
}

/**
 * A compose project of docker-compose.yaml with the documented override, and a unique name. `overlays`
 * (files of the checkout, such as docker-compose.auth-token.yaml) are given after it, their secrets read
 * from `secretsDir` too; `image` names the app's image instead of ctera-app.
 */
export async function createStack(
  secretsDir: string,
  options: { overlays?: string[]; image?: string } = {},
): Promise<Stack> {
  const { command, prefix } = await findCompose()
  const project = `${PROJECT_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`
  const port = await findFreePort()
  const file = join(secretsDir, 'docker-compose.yaml')
  const main = overrideComposeFile(readComposeFile(), { port, secretsDir })
  if (options.image && main.services[APP]) main.services[APP].image = options.image
  writeFileSync(file, stringify(main))
  const files = [file]
  for (const overlay of options.overlays ?? []) {
    const copy = readComposeFile(join(ROOT, overlay))
    for (const secret of Object.values(copy.secrets ?? {}))
      secret.file = join(secretsDir, basename(secret.file))
    files.push(join(secretsDir, overlay))
    writeFileSync(join(secretsDir, overlay), stringify(copy))
  }
  // --project-directory: `build: .`, the init scripts' bind mount and every relative path resolve
  // against the checkout, as they do for the original file.
  const base = [
    ...prefix,
    '-p',
    project,
    ...files.flatMap((name) => ['-f', name]),
    '--project-directory',
    ROOT,
  ]

  const compose = (args: string[], timeoutMs = 300_000) =>
    runOrThrow(command, [...base, ...args], { cwd: ROOT, timeoutMs })

  async function container(service: string): Promise<string> {
    const ids = await docker([
      'ps',
      '--all',
      '--quiet',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
    ])
    const [id, ...others] = ids.split('\n').filter(Boolean)
    if (!id || others.length > 0) throw new Error(`expected one ${service} container, found: ${ids}`)
    return id
  }

  async function waitHealthy(timeoutMs = 180_000): Promise<void> {
    const started = Date.now()
    let states: string[] = []
    while (Date.now() - started < timeoutMs) {
      states = []
      for (const service of [DB, APP]) {
        const state = await container(service).then(
          async (id) => (await inspect(id)).State.Health?.Status ?? 'no health check',
          () => 'not created',
        )
        states.push(`${service}: ${state}`)
      }
      if (states.every((state) => state.endsWith(': healthy'))) return
      await new Promise((wait) => setTimeout(wait, 1000))
    }
    throw new Error(`not healthy within ${timeoutMs} ms: ${states.join(', ')}`)
  }

  async function sql(statement: string): Promise<string> {
    const db = await container(DB)
    const output = await docker([
      'exec',
      db,
      'psql',
      '--no-psqlrc',
      '-v',
      'ON_ERROR_STOP=1',
      '-U',
      'postgres',
      '-d',
      'ctera',
      '-tAc',
      statement,
    ])
    return output.trim()
  }

  async function logs(service: string): Promise<string> {
    const result = await run(DOCKER, ['logs', await container(service)])
    return `${result.stdout}${result.stderr}`
  }

  return { project, port, url: `http://127.0.0.1:${port}`, compose, container, waitHealthy, sql, logs }
}

/**
 * Removes what earlier runs of this suite left behind when they were killed before cleaning up: their
 * project names carry the pid of the run, and only runs whose process is gone are removed.
 */
export async function removeLeftoverStacks(): Promise<void> {
  const labels = await docker(['ps', '--all', '--format', '{{.Label "com.docker.compose.project"}}'])
  const projects = new Set(labels.split('\n').filter((name) => name.startsWith(PROJECT_PREFIX)))
  for (const project of projects) {
    const pid = Number(project.slice(PROJECT_PREFIX.length).split('-')[0])
    if (pid && processIsAlive(pid)) continue
    const filter = `label=com.docker.compose.project=${project}`
    const ids = (await docker(['ps', '--all', '--quiet', '--filter', filter])).split('\n').filter(Boolean)
    if (ids.length > 0) await docker(['rm', '--force', '--volumes', ...ids])
    const volumes = (await docker(['volume', 'ls', '--quiet', '--filter', filter]))
      .split('\n')
      .filter(Boolean)
    if (volumes.length > 0) await run(DOCKER, ['volume', 'rm', ...volumes])
    await run(DOCKER, ['network', 'rm', `${project}_default`])
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** `npm run <script>` in the checkout with extra environment; resolves with its status and output. */
export function npmRun(script: string, env: Record<string, string>) {
  return run('npm', ['run', '--silent', script], { cwd: ROOT, env, timeoutMs: 120_000 })
}
