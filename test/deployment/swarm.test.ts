import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { COMPOSE_FILE, overlay, readSwarmStack, swarmStack } from '../../scripts/swarm-stack.js'
import { ROOT } from '../support/dockerfile.js'
import { variablesTheAppReads } from '../support/env-names.js'
import { documentedFigures, readFigures, renderFigures } from '../swarm/support/figures.js'

// The stack file that `npm run swarm:stack` prints, checked without an engine; `npm run test:swarm` runs it
// on a real swarm. Here: it says what deploy/k8s says, keeps what docker-compose.yaml says, and the figures
// in docs/deployment.md are those of the last swarm run.

const stack = readSwarmStack()
const app = stack.services['ctera-app'] ?? {}
const db = stack.services['postgres-db'] ?? {}
const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'))
const deployment = parse(readFileSync(resolve(ROOT, 'deploy/k8s/base/deployment.yaml'), 'utf8'))
const pdb = parse(readFileSync(resolve(ROOT, 'deploy/k8s/base/pdb.yaml'), 'utf8'))
const pod = deployment.spec.template.spec.containers[0]

type Deploy = {
  replicas: number
  endpoint_mode: string
  update_config: Record<string, unknown>
  rollback_config: Record<string, unknown>
  restart_policy: Record<string, unknown>
  resources: { limits: { memory: string; pids: number }; reservations: { memory: string } }
}
const deploy = app.deploy as Deploy

/** Docker's and Kubernetes' memory quantities, in bytes: 256m, 256M and 256Mi are all 256 MiB. */
function bytes(quantity: string): number {
  const match = /^(\d+)(k|m|g|Ki|Mi|Gi)?b?$/i.exec(quantity)
  if (!match) throw new Error(`not a memory quantity: ${quantity}`)
  const unit = (match[2] ?? '').toLowerCase().replace('i', '')
  return Number(match[1]) * 1024 ** ['', 'k', 'm', 'g'].indexOf(unit)
}

describe('the swarm stack file (npm run swarm:stack)', () => {
  it('is a file Docker 20.10 reads: version 3.9, no top-level name, none of the keys stack deploy refuses', () => {
    const refused = ['mem_limit', 'pids_limit', 'depends_on', 'build', 'restart', 'security_opt', 'tmpfs']

    expect(stack.version).toBe('3.9')
    expect(stack).not.toHaveProperty('name')
    for (const service of Object.values(stack.services)) {
      for (const key of refused) expect(service).not.toHaveProperty(key)
    }
  })

  it('keeps what docker-compose.yaml says: environment, secrets, health check of the database, hardening', () => {
    const composeApp = compose.services['ctera-app']

    expect(app.environment).toMatchObject({
      ...composeApp.environment,
      CONTAINER_NAME: '{{.Task.Name}}',
      GRAPHIQL: 'false',
    })
    expect(app.secrets).toEqual(composeApp.secrets)
    expect(db.secrets).toEqual(compose.services['postgres-db'].secrets)
    expect(db.healthcheck).toEqual(compose.services['postgres-db'].healthcheck)
    expect(app).toMatchObject({ read_only: true, cap_drop: ['ALL'] })
    expect(app.volumes).toContainEqual({ type: 'tmpfs', target: '/tmp' })
    expect(deploy.resources.limits).toEqual({ memory: composeApp.mem_limit, pids: composeApp.pids_limit })
  })

  it('sets only variables the app reads', () => {
    const reads = variablesTheAppReads()
    for (const name of Object.keys(app.environment as object)) expect(reads, name).toContain(name)
  })

  it('says what the Kubernetes base says: replicas, surge, memory limit and request, grace period', () => {
    const rolling = deployment.spec.strategy.rollingUpdate

    expect(deploy.replicas).toBe(deployment.spec.replicas)
    // One extra task at a time, started before an old one stops: maxSurge 1, maxUnavailable 0.
    expect(deploy.update_config).toMatchObject({ parallelism: rolling.maxSurge, order: 'start-first' })
    expect(rolling.maxUnavailable).toBe(0)
    expect(bytes(deploy.resources.limits.memory)).toBe(bytes(pod.resources.limits.memory))
    expect(bytes(deploy.resources.reservations.memory)).toBe(bytes(pod.resources.requests.memory))
    expect(app.stop_grace_period).toBe(`${deployment.spec.template.spec.terminationGracePeriodSeconds}s`)
    // Swarm has no disruption budget; one task at a time is what the PDB allows too.
    expect(pdb.spec.maxUnavailable).toBe(deploy.update_config.parallelism)
  })

  it('the memory limit is the one docs/security.md states the 224 MB resident ceiling against', () => {
    const security = readFileSync(resolve(ROOT, 'docs/security.md'), 'utf8')

    expect(bytes(deploy.resources.limits.memory)).toBe(256 * 1024 * 1024)
    expect(security).toContain('under 224 MB whatever clients send** (seven eighths of the 256 MB limit')
  })

  it('rolls back a failed update by itself, restarts failed tasks, and runs 3 replicas behind the routing mesh', () => {
    expect(deploy.update_config).toMatchObject({ failure_action: 'rollback', max_failure_ratio: 0 })
    expect(deploy.update_config.monitor).toMatch(/^\d+s$/)
    expect(deploy.rollback_config).toMatchObject({ order: 'start-first' })
    expect(deploy.restart_policy).toMatchObject({ condition: 'any' })
    expect(deploy.endpoint_mode).toBe('vip')
    expect(app.ports).toEqual(compose.services['ctera-app'].ports)
    // Two PostgreSQL servers must never share the volume.
    expect(db.deploy).toMatchObject({ replicas: 1, update_config: { order: 'stop-first' } })
  })

  // The stack file's own variables, as `docker stack deploy` reads them (not template strings).
  /* biome-ignore-start lint/suspicious/noTemplateCurlyInString: compose variables */
  it('takes the passwords from external swarm secrets, named by variables for rotation', () => {
    expect(stack.secrets).toEqual({
      db_password: { external: true, name: '${CTERA_DB_PASSWORD_SECRET:-ctera_db_password}' },
      db_admin_password: {
        external: true,
        name: '${CTERA_DB_ADMIN_PASSWORD_SECRET:-ctera_db_admin_password}',
      },
    })
    expect(app.image).toBe('${CTERA_IMAGE:-ctera-app}')
  })
  /* biome-ignore-end lint/suspicious/noTemplateCurlyInString: compose variables */

  it('ships the init script as a read-only config, its path absolute, its mode octal 0444', () => {
    const configs = stack.configs as Record<string, { file: string }>

    expect(db.configs).toEqual([
      {
        source: 'postgres-initdb',
        target: '/docker-entrypoint-initdb.d/10-ctera-monitoring-role.sh',
        mode: 0o444,
      },
    ])
    expect(configs['postgres-initdb']?.file).toBe(
      resolve(ROOT, 'deploy/postgres/initdb/10-ctera-monitoring-role.sh'),
    )
    expect(db.volumes).toEqual(['db-data:/var/lib/postgresql/data'])
  })
})

describe('the conversion rules of scripts/swarm-stack.ts', () => {
  it('moves limits and tmpfs, drops what swarm refuses, makes file paths absolute, and lays the overlay over', () => {
    const converted = swarmStack(
      {
        name: 'x',
        services: {
          s: { image: 'i', mem_limit: '64m', pids_limit: 10, tmpfs: '/run', restart: 'always', build: '.' },
        },
        secrets: { a: { file: './a.txt' }, b: { file: './b.txt' } },
      },
      { services: { s: { deploy: { replicas: 2 }, image: 'j' } }, secrets: { b: { external: true } } },
    )

    expect(converted).toEqual({
      version: '3.9',
      services: {
        s: {
          image: 'j',
          deploy: { resources: { limits: { memory: '64m', pids: 10 } }, replicas: 2 },
          volumes: [{ type: 'tmpfs', target: '/run' }],
        },
      },
      secrets: { a: { file: resolve(ROOT, 'a.txt') }, b: { external: true } },
    })
  })

  it('merges maps key by key; lists and scalars of the overlay replace', () => {
    expect(overlay({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { c: [3] }, d: 'y' })).toEqual({
      a: { b: 1, c: [3] },
      d: 'y',
    })
  })
})

describe('the swarm figures in docs/deployment.md', () => {
  it('are those docs/swarm-figures.json holds, written by the last `npm run test:swarm`', () => {
    expect(documentedFigures()).toBe(renderFigures(readFigures()))
  })
})
