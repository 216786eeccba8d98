import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPostgres, type TestPostgres, withClient } from '../support/postgres.js'
import { type RunningService, startService } from '../support/service.js'

// A PostgreSQL of this file's own: one test takes a privilege away from the service's role.
let postgres: TestPostgres
let service: RunningService

beforeAll(async () => {
  postgres = await startTestPostgres()
  service = await startService(postgres.app, { monitor: false })
})
afterAll(async () => {
  await service?.close()
  await postgres?.destroy()
})

const GRAPHQL_JSON = { 'content-type': 'application/json', accept: 'application/graphql-response+json' }

async function send(path: string, init: RequestInit = {}) {
  const response = await fetch(`${service.url}${path}`, init)
  const text = await response.text()
  return { status: response.status, text }
}

/** Log lines at warn or above, written while `work` ran. */
async function logsDuring(work: () => Promise<unknown>) {
  const before = service.rawLogs.length
  await work()
  return service.logs.slice(before).filter((line) => Number(line.level) >= 40)
}

const query = (text: string) => encodeURIComponent(text)
const cursorOf = (schema: string, name: string) =>
  Buffer.from(JSON.stringify([schema, name])).toString('base64url')

describe('client mistakes are 4xx, say nothing internal, and log at most one short line', () => {
  it('answers an invalid JSON body with 400 and no runtime text', async () => {
    const answer = await send('/graphql', { method: 'POST', headers: GRAPHQL_JSON, body: '{"query":' })

    expect(answer.status).toBe(400)
    expect(answer.text).not.toMatch(/originalError|SyntaxError|JSON input/)
    expect(JSON.parse(answer.text).errors[0].extensions.code).toBe('BAD_REQUEST')
  })

  it.each([
    ['variables', `query=${query('query($s: String) { numberOfTables(schema: $s) }')}&variables=%7Bbad`],
    ['extensions', `query=${query('{ health { healthy } }')}&extensions=%7Bbad`],
  ])('answers a GET with malformed %s with 400, not 500', async (_name, search) => {
    const logs = await logsDuring(async () => {
      const answer = await send(`/graphql?${search}`, {
        headers: { accept: 'application/graphql-response+json' },
      })

      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.text).errors[0].extensions.code).toBe('BAD_REQUEST')
      expect(answer.text).not.toMatch(/SyntaxError|position/)
    })

    expect(logs).toEqual([])
  })

  it.each([
    ['schema argument', `{ numberOfTables(schema: "pub\\u0000lic") }`],
    ['schema of the table list', `{ database { tables(schema: "a\\u0000") { totalCount } } }`],
    ['cursor', `{ database { tables(after: "${cursorOf('public\u0000', 'x')}") { totalCount } } }`],
  ])('refuses a NUL byte in the %s with 400 BAD_USER_INPUT, logging no error', async (_name, document) => {
    const logs = await logsDuring(async () => {
      for (let sent = 0; sent < 20; sent++) {
        const answer = await send('/graphql', {
          method: 'POST',
          headers: GRAPHQL_JSON,
          body: JSON.stringify({ query: document }),
        })
        expect(answer.status).toBe(400)
        expect(JSON.parse(answer.text).errors[0].extensions.code).toBe('BAD_USER_INPUT')
      }
    })

    expect(logs).toEqual([])
  })

  it('logs a repeated unexpected error once, not once per request, and never sends its text', async () => {
    // An operator mistake the service cannot foresee: the role loses a function the insight query uses.
    await withClient(postgres.admin, (client) =>
      client.query('REVOKE EXECUTE ON FUNCTION pg_database_size(name) FROM PUBLIC'),
    )
    const answers: Array<{ status: number; text: string }> = []
    const logs = await logsDuring(async () => {
      for (let sent = 0; sent < 50; sent++) {
        answers.push(
          await send('/graphql', {
            method: 'POST',
            headers: GRAPHQL_JSON,
            body: JSON.stringify({ query: '{ database { name } }' }),
          }),
        )
      }
    })
    await withClient(postgres.admin, (client) =>
      client.query('GRANT EXECUTE ON FUNCTION pg_database_size(name) TO PUBLIC'),
    )

    expect(answers.every((answer) => answer.text.includes('Unexpected error.'))).toBe(true)
    expect(answers.some((answer) => /permission|pg_database_size|stack/i.test(answer.text))).toBe(false)
    expect(logs.length).toBeGreaterThanOrEqual(1)
    expect(logs.length).toBeLessThanOrEqual(2)
  })
})
