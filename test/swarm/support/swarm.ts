import { randomBytes } from 'node:crypto'
import { readSwarmStack, type StackFile } from '../../../scripts/swarm-stack.js'
import { DOCKER, docker, inspect, run } from '../../containers/support/engine.js'

export const APP = 'ctera-app'
export const DB = 'postgres-db'
export const STACK_PREFIX = 'ctera-swarm-'

/** A unique name per run; the pid lets a later run remove what a killed run left behind. */
export function uniqueName(): string {
  return `${STACK_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`
}

const GATEWAY_BRIDGE = 'docker_gwbridge'

/**
 * Starts a single-node swarm when the engine is in none. Returns how to undo it: leave the swarm and remove
 * the gateway bridge `swarm init` made, or nothing when the swarm was there before.
 */
export async function ensureSwarm(): Promise<(() => Promise<void>) | undefined> {
  const state = (await docker(['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim()
  if (state === 'active') return undefined
  if (state !== 'inactive') throw new Error(`the engine's swarm state is '${state}', not active or inactive`)
  const bridgeWasThere = (await run(DOCKER, ['network', 'inspect', GATEWAY_BRIDGE])).status === 0
  await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1'])
  return async () => {
    await docker(['swarm', 'leave', '--force'])
    if (!bridgeWasThere) await run(DOCKER, ['network', 'rm', GATEWAY_BRIDGE])
  }
}

/**
 * The only changes the suite makes to the stack file that `npm run swarm:stack` prints:
 *  - both services use `endpoint_mode: dnsrr` and the app publishes no port: this sandbox has no IPVS, so
 *    neither the routing mesh nor a virtual IP answers; the load client reaches the tasks on the overlay
 *    network instead. (Swarm refuses a published ingress port on a dnsrr service.)
 * The image tag and the secrets' names are the stack file's own variables (CTERA_IMAGE, CTERA_*_SECRET).
 */
export function overrideStackFile(original: StackFile): StackFile {
  const copy = structuredClone(original)
  for (const service of [APP, DB]) {
    const definition = copy.services[service]
    if (!definition) throw new Error(`the stack file has no service ${service}`)
    definition.deploy = { ...definition.deploy, endpoint_mode: 'dnsrr' }
  }
  delete copy.services[APP]?.ports
  return copy
}

export function testStackFile(): StackFile {
  return overrideStackFile(readSwarmStack())
}

export interface Replica {
  container: string
  /** The task's address on the stack's network. */
  address: string
  task: string
  image: string
  health: string
  restarts: number
  startedAt: string
}

/** The running containers of a stack's service, with their health. */
export async function replicas(stack: string, service: string): Promise<Replica[]> {
  const ids = (
    await docker(['ps', '--quiet', '--filter', `label=com.docker.swarm.service.name=${stack}_${service}`])
  )
    .split('\n')
    .filter(Boolean)
  const found: Replica[] = []
  for (const id of ids) {
    const container = await inspect(id).catch(() => undefined)
    if (!container?.State.Running) continue
    const extra = container as unknown as {
      Config: { Labels: Record<string, string>; Image: string }
      NetworkSettings: { Networks: Record<string, { IPAddress: string }> }
    }
    const labels = extra.Config
    found.push({
      container: container.Id,
      address: extra.NetworkSettings.Networks[`${stack}_default`]?.IPAddress ?? '',
      task: labels.Labels['com.docker.swarm.task.id'] ?? '',
      image: labels.Image,
      health: container.State.Health?.Status ?? 'none',
      restarts: container.RestartCount,
      startedAt: container.State.StartedAt,
    })
  }
  return found
}

export interface UpdateStatus {
  State?: string
  StartedAt?: string
  CompletedAt?: string
  Message?: string
}

export async function updateStatus(stack: string, service: string): Promise<UpdateStatus> {
  const json = await docker([
    'service',
    'inspect',
    '--format',
    '{{json .UpdateStatus}}',
    `${stack}_${service}`,
  ])
  return (JSON.parse(json) as UpdateStatus | null) ?? {}
}

/** Polls (bounded) until check() returns a value; throws with the last state it saw. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  describe: () => Promise<string> = async () => '',
): Promise<T> {
  const started = Date.now()
  while (Date.now() - started < timeoutMs) {
    const value = await check()
    if (value !== undefined) return value
    await new Promise((wait) => setTimeout(wait, 500))
  }
  throw new Error(`${what}: not within ${timeoutMs} ms. ${await describe()}`)
}

/** Removes a stack and everything it made (services, network, config, then its volume). */
export async function removeStack(stack: string): Promise<void> {
  await run(DOCKER, ['stack', 'rm', stack])
  // The volume can go only once the stack's containers are gone.
  await waitFor(
    `the containers of ${stack} to go`,
    async () => {
      const left = await docker([
        'ps',
        '--all',
        '--quiet',
        '--filter',
        `label=com.docker.stack.namespace=${stack}`,
      ])
      return left.trim() === '' ? true : undefined
    },
    90_000,
  ).catch(() => undefined)
  const volumes = (await docker(['volume', 'ls', '--quiet', '--filter', `name=${stack}_`]))
    .split('\n')
    .filter(Boolean)
  if (volumes.length > 0) await run(DOCKER, ['volume', 'rm', '--force', ...volumes])
  // The network is removed by `stack rm`, sometimes a moment after its last container.
  await waitFor(
    `the network of ${stack} to go`,
    async () => {
      const left = await docker([
        'network',
        'ls',
        '--quiet',
        '--filter',
        `label=com.docker.stack.namespace=${stack}`,
      ])
      if (left.trim() === '') return true
      await run(DOCKER, ['network', 'rm', ...left.split('\n').filter(Boolean)])
      return undefined
    },
    30_000,
  ).catch(() => undefined)
}

/** Secrets and images named after a run. */
export async function removeRunArtefacts(name: string): Promise<void> {
  const secrets = (await docker(['secret', 'ls', '--quiet', '--filter', `name=${name}`]))
    .split('\n')
    .filter(Boolean)
  if (secrets.length > 0) await run(DOCKER, ['secret', 'rm', ...secrets])
  const images = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', name]))
    .split('\n')
    .filter(Boolean)
  if (images.length > 0) await run(DOCKER, ['image', 'rm', '--force', ...images])
}

/** What runs killed before they cleaned up left: their names carry their pid, and only dead runs count. */
export async function removeLeftovers(): Promise<void> {
  const names = new Set<string>()
  const listings = [
    await run(DOCKER, ['stack', 'ls', '--format', '{{.Name}}']),
    await run(DOCKER, ['secret', 'ls', '--format', '{{.Name}}']),
    await run(DOCKER, ['image', 'ls', '--format', '{{.Repository}}']),
    await run(DOCKER, ['ps', '--all', '--format', '{{.Names}}']),
  ]
  for (const listing of listings) {
    for (const line of listing.stdout.split('\n')) {
      const match = new RegExp(`^(${STACK_PREFIX}\\d+-[0-9a-f]{6})`).exec(line)
      if (match?.[1]) names.add(match[1])
    }
  }
  for (const name of names) {
    const pid = Number(name.slice(STACK_PREFIX.length).split('-')[0])
    if (pid && processIsAlive(pid)) continue
    await run(DOCKER, ['rm', '--force', `${name}-load`])
    await removeStack(name)
    await removeRunArtefacts(name)
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
