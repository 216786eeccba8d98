/**
 * Prints the Docker Swarm stack file: docker-compose.yaml with deploy/swarm/stack.yaml laid over it, so the
 * services are defined once and swarm's settings live beside them.
 *
 *   npm run --silent swarm:stack | docker stack deploy --compose-file - ctera
 *
 * Why a generator and not `docker stack deploy -c docker-compose.yaml -c deploy/swarm/stack.yaml`: Docker
 * 20.10 validates each file on its own against its 3.x schema, and refuses docker-compose.yaml ("unsupported
 * Compose file version: 1.0", then `mem_limit`, `pids_limit`, `depends_on` conditions), which Compose needs
 * as they are. The rules, each for a key `docker stack deploy` refuses or drops:
 *  - `version: "3.9"` is added and the top-level `name:` removed (the stack's name is the command's argument);
 *  - `mem_limit` and `pids_limit` become deploy.resources.limits.memory and .pids;
 *  - `tmpfs` becomes a tmpfs mount (stack deploy ignores the key without a word: measured on 20.10);
 *  - `build`, `restart`, `depends_on` and `security_opt` are removed: swarm builds nothing, restarts by
 *    deploy.restart_policy, does not order services (the app answers 503 until its database answers), and
 *    cannot set no-new-privileges (Docker 20.10);
 *  - relative `file:` paths of secrets and configs become absolute, from the file that names them;
 *  - then the overlay: a service's maps merge key by key, anything else (lists, strings) in the overlay
 *    replaces; a top-level secret, config, volume or network of the overlay replaces the one of that name.
 * Both files are read as YAML 1.1, as Docker reads them (`mode: 0444` is octal there).
 */
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parse, stringify } from 'yaml'

const ROOT = resolve(import.meta.dirname, '..')
export const COMPOSE_FILE = resolve(ROOT, 'docker-compose.yaml')
export const OVERLAY_FILE = resolve(ROOT, 'deploy/swarm/stack.yaml')

type Map = Record<string, unknown>
export type StackFile = {
  version: string
  services: Record<string, Map & { deploy?: Map; volumes?: unknown[] }>
  [key: string]: unknown
}

const isMap = (value: unknown): value is Map =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Maps merge key by key; anything else from the overlay replaces what was there. */
export function overlay(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return structuredClone(over)
  const merged: Map = structuredClone(base)
  for (const [key, value] of Object.entries(over)) merged[key] = overlay(merged[key], value)
  return merged
}

/** Relative `file:` paths of top-level secrets and configs, made absolute from the directory `from`. */
function absoluteFiles(file: Map, from: string): Map {
  const copy = structuredClone(file)
  for (const section of ['secrets', 'configs']) {
    const entries = copy[section]
    if (!isMap(entries)) continue
    for (const entry of Object.values(entries)) {
      if (isMap(entry) && typeof entry.file === 'string' && !isAbsolute(entry.file)) {
        entry.file = resolve(from, entry.file)
      }
    }
  }
  return copy
}

/** One compose service as swarm reads it (before the overlay). */
function forSwarm(service: Map): Map {
  const { build, restart, depends_on, security_opt, mem_limit, pids_limit, tmpfs, ...kept } = service
  const limits: Map = {}
  if (mem_limit !== undefined) limits.memory = mem_limit
  if (pids_limit !== undefined) limits.pids = pids_limit
  if (Object.keys(limits).length > 0) kept.deploy = overlay(kept.deploy ?? {}, { resources: { limits } })
  const targets = tmpfs === undefined ? [] : Array.isArray(tmpfs) ? tmpfs : [tmpfs]
  if (targets.length > 0) {
    const mounts = targets.map((target) => ({ type: 'tmpfs', target: String(target) }))
    kept.volumes = [...((kept.volumes as unknown[]) ?? []), ...mounts]
  }
  return kept
}

export function swarmStack(compose: Map, over: Map): StackFile {
  const { name, services, ...rest } = absoluteFiles(compose, dirname(COMPOSE_FILE))
  const converted: Map = {}
  for (const [service, definition] of Object.entries(services as Record<string, Map>)) {
    converted[service] = forSwarm(definition)
  }
  const { services: overServices, ...overRest } = absoluteFiles(over, dirname(OVERLAY_FILE))
  const stack: Map = { version: '3.9', services: overlay(converted, overServices ?? {}), ...rest }
  for (const [section, entries] of Object.entries(overRest)) {
    stack[section] = isMap(entries) && isMap(stack[section]) ? { ...stack[section], ...entries } : entries
  }
  return stack as StackFile
}

const readYaml = (file: string): Map => parse(readFileSync(file, 'utf8'), { version: '1.1' })

export function readSwarmStack(): StackFile {
  return swarmStack(readYaml(COMPOSE_FILE), readYaml(OVERLAY_FILE))
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(
    `# Generated by \`npm run swarm:stack\` from docker-compose.yaml and deploy/swarm/stack.yaml.\n${stringify(readSwarmStack(), { version: '1.1' })}`,
  )
}
