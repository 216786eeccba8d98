import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { validateCompose } from '../support/compose-schema.js'
import { ROOT } from '../support/dockerfile.js'
import { variablesTheAppReads } from '../support/env-names.js'

const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yaml'), 'utf8'))
const app = compose.services['ctera-app']
const db = compose.services['postgres-db']

describe('docker-compose.yaml', () => {
  it('validates against the Compose Specification schema', () => {
    expect(validateCompose(compose)).toEqual([])
  })

  it('the schema check can fail: an unknown service key is reported', () => {
    const broken = structuredClone(compose)
    broken.services['ctera-app'].restart_policy = 'always'

    expect(validateCompose(broken).join('\n')).toMatch(/restart_policy/)
  })

  it('the schema check reads Compose\u2019s formats: a malformed port mapping is reported', () => {
    const broken = structuredClone(compose)
    broken.services['ctera-app'].ports = ['5001:5001', '50o1:5001']

    expect(validateCompose(broken)).toContain('/services/ctera-app/ports/1: must match format "ports"')
    expect(validateCompose(broken).join('\n')).not.toContain('/ports/0')
  })

  it('passes the passwords as secrets: the app gets only its own role\u2019s, the database both', () => {
    expect(compose.secrets.db_password.file).toBe('./db_password.txt')
    expect(compose.secrets.db_admin_password.file).toBe('./db_admin_password.txt')
    expect(app.secrets).toEqual(['db_password'])
    expect(db.secrets).toEqual(expect.arrayContaining(['db_password', 'db_admin_password']))
    expect(app.environment.DB_PASSWORD_FILE).toBe('/run/secrets/db_password')
    expect(db.environment.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/db_admin_password')
    expect(db.environment.APP_PASSWORD_FILE).toBe('/run/secrets/db_password')
    expect(JSON.stringify(compose)).not.toMatch(/DB_PASSWORD"|POSTGRES_PASSWORD"/)
  })

  it("connects as the seed's user ctera, a least-privilege role made by the shipped init script", () => {
    expect(app.environment.DB_USER).toBe('ctera')
    expect(db.environment.APP_DB_USER).toBe('ctera')
    expect(db.environment.POSTGRES_USER).not.toBe('ctera')
    expect(db.volumes).toContain('./deploy/postgres/initdb:/docker-entrypoint-initdb.d:ro')
  })

  it('uses the official postgres image pinned to a major, and a named volume', () => {
    expect(db.image).toMatch(/^postgres:\d+(\.\d+)?$/)
    const [volume] = db.volumes
    expect(Object.keys(compose.volumes)).toContain(volume.split(':')[0])
  })

  it('builds the app image ctera-app, publishes 5001, and waits for a healthy database', () => {
    expect(app.build).toBe('.')
    expect(app.image).toBe('ctera-app')
    expect(app.ports).toContain('5001:5001')
    expect(app.depends_on['postgres-db'].condition).toBe('service_healthy')
    expect(app.healthcheck.test).toEqual(['CMD', 'node', 'dist/healthcheck.js'])
    expect(db.healthcheck.test.join(' ')).toContain('pg_isready')
  })

  it('hardens the app container', () => {
    expect(app).toMatchObject({
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      tmpfs: ['/tmp'],
      restart: 'unless-stopped',
    })
    expect(app.mem_limit).toMatch(/^\d+[mg]$/)
  })
})

describe('docker-compose.auth-token.yaml (the bearer token, opt-in)', () => {
  const overlay = parse(readFileSync(resolve(ROOT, 'docker-compose.auth-token.yaml'), 'utf8'))
  const appReads = variablesTheAppReads()

  it('validates, and gives the app the token as a secret file, as the password is given', () => {
    const overlayApp = overlay.services['ctera-app']

    expect(validateCompose(overlay)).toEqual([])
    expect(Object.keys(overlay.services)).toEqual(['ctera-app'])
    expect(overlay.secrets).toEqual({ auth_token: { file: './auth_token.txt' } })
    expect(overlayApp.secrets).toEqual(['auth_token'])
    expect(overlayApp.environment).toEqual({ AUTH_TOKEN_FILE: '/run/secrets/auth_token' })
    expect(Object.keys(overlayApp.environment).filter((name) => !appReads.has(name))).toEqual([])
  })

  it('leaves the base stack as it was: no token unless the overlay is given', () => {
    expect(app.environment.AUTH_TOKEN_FILE).toBeUndefined()
    expect(compose.secrets.auth_token).toBeUndefined()
  })
})
