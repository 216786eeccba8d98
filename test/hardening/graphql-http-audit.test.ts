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
  // Twice: the first run's documents are new, so yoga parses them and answers; the second finds them in
  // yoga's cache, and the fast path (src/graphql/fast-path.ts) answers every plain request it can.
  it.each(['first run, new documents', 'second run, cached documents'])(
    'passes every MUST and every SHOULD (%s)',
    async (path) => {
      const answeredBefore = service.app.graphqlFastPathAnswers
      const results = await auditServer({ url: `${service.url}/graphql` })
      const failed = results
        .filter(
          (result) => result.status !== 'ok' && !(result.status === 'warn' && ACCEPTED_WARNINGS[result.id]),
        )
        .map((result) => `${result.status} ${result.name}: ${'reason' in result ? result.reason : ''}`)
      const answered = service.app.graphqlFastPathAnswers - answeredBefore
      console.log(
        `graphql-http audit (${path}): ${results.length} audits, ${results.filter((result) => result.status === 'ok').length} ok, ` +
          `${results.filter((result) => result.status === 'warn').length} warn, ${results.filter((result) => result.status === 'error').length} error; ` +
          `${answered} requests answered by the fast path`,
      )

      expect(results.filter((result) => result.name.startsWith('MUST')).length).toBeGreaterThan(10)
      expect(failed).toEqual([])
      if (path.startsWith('second')) expect(answered).toBeGreaterThan(10)
    },
  )
})
