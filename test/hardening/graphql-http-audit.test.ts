import { auditServer } from 'graphql-http'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let service: RunningService

beforeAll(async () => {
  service = await startService(postgres.app, { monitor: false })
})
afterAll(() => service.close())

// SHOULD-level audits this server is allowed to miss, each with the reason. None at present.
const ACCEPTED_WARNINGS: Record<string, string> = {}

describe('GraphQL over HTTP compliance (graphql-http auditServer)', () => {
  it('passes every MUST and every SHOULD', async () => {
    const results = await auditServer({ url: `${service.url}/graphql` })
    const failed = results
      .filter(
        (result) => result.status !== 'ok' && !(result.status === 'warn' && ACCEPTED_WARNINGS[result.id]),
      )
      .map((result) => `${result.status} ${result.name}: ${'reason' in result ? result.reason : ''}`)
    console.log(
      `graphql-http audit: ${results.length} audits, ${results.filter((result) => result.status === 'ok').length} ok, ` +
        `${results.filter((result) => result.status === 'warn').length} warn, ${results.filter((result) => result.status === 'error').length} error`,
    )

    expect(results.filter((result) => result.name.startsWith('MUST')).length).toBeGreaterThan(10)
    expect(failed).toEqual([])
  })
})
