import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectionSettings } from '../../src/config/database-target.js'
import { startTestPostgres, type TestPostgres, withClient } from '../support/postgres.js'
import { type RunningService, startService } from '../support/service.js'

// Every way PostgreSQL can refuse a new connection, against a server of this file's own: each case
// gets a database of its own, refused in one way, and a fresh service (so no connection predates it).
let postgres: TestPostgres
const services: RunningService[] = []

beforeAll(async () => {
  postgres = await startTestPostgres()
})
afterAll(async () => {
  await Promise.all(services.map((service) => service.close()))
  await postgres?.destroy()
})

const admin = (sql: string) => withClient(postgres.admin, (client) => client.query(sql))

async function database(name: string): Promise<ConnectionSettings> {
  await admin(`CREATE DATABASE ${name}`)
  return { ...postgres.app, database: name }
}

interface Refusal {
  name: string
  reason: string
  arrange(): Promise<ConnectionSettings>
}

const refusals: Refusal[] = [
  {
    name: 'CONNECT privilege revoked',
    reason: 'permission denied',
    arrange: async () => {
      const settings = await database('revoked')
      await admin('REVOKE CONNECT ON DATABASE revoked FROM PUBLIC')
      return settings
    },
  },
  {
    name: 'role connection limit reached',
    reason: 'too many connections',
    arrange: async () => {
      await admin('CREATE ROLE limited LOGIN PASSWORD $$limited$$ CONNECTION LIMIT 0')
      return { ...(await database('role_limit')), user: 'limited', password: 'limited' }
    },
  },
  {
    name: 'database connection limit reached',
    reason: 'too many connections',
    arrange: async () => {
      const settings = await database('database_limit')
      await admin('ALTER DATABASE database_limit CONNECTION LIMIT 0')
      return settings
    },
  },
  {
    name: 'database does not exist',
    reason: 'database does not exist',
    arrange: async () => ({ ...postgres.app, database: 'never_created' }),
  },
  {
    name: 'database not accepting connections (ALLOW_CONNECTIONS false)',
    reason: 'database not accepting connections',
    arrange: async () => {
      const settings = await database('closed')
      await admin('ALTER DATABASE closed ALLOW_CONNECTIONS false')
      return settings
    },
  },
  {
    name: 'role may not log in',
    reason: 'authentication failed',
    arrange: async () => {
      await admin('CREATE ROLE no_login PASSWORD $$no_login$$ NOLOGIN')
      return { ...(await database('no_login_db')), user: 'no_login', password: 'no_login' }
    },
  },
  {
    name: 'wrong password',
    reason: 'authentication failed',
    arrange: async () => ({ ...(await database('wrong_password')), password: 'not-the-password' }),
  },
]

async function post(service: RunningService, query: string) {
  const response = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
  return { status: response.status, body: await response.json() }
}

describe('a connection refused at connect time is 503 with a fixed reason, never 500', () => {
  it.each(refusals)('$name: "$reason"', async ({ arrange, reason }) => {
    const service = await startService(await arrange(), { monitor: false })
    services.push(service)

    const tables = await fetch(`${service.url}/number_of_tables`)
    const tablesBody = await tables.json()
    const health = await fetch(`${service.url}/health`)
    const graphql = [await post(service, '{ numberOfTables }'), await post(service, '{ database { name } }')]
    const errorLogs = service.logs.filter((line) => Number(line.level) >= 50)

    expect(tables.status).toBe(503)
    expect(tablesBody).toEqual({
      error: 'The database is unavailable.',
      code: 'DATABASE_UNAVAILABLE',
      reason,
    })
    expect(health.status).toBe(503)
    expect(service.monitor.latest?.reason).toBe(reason)
    for (const { body } of graphql) {
      expect(body.errors[0].extensions).toEqual({ code: 'DATABASE_UNAVAILABLE', reason })
    }
    expect(errorLogs).toEqual([])
  })
})
