import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { findFreePort } from '../../src/net/free-port.js'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let up: RunningService
let down: RunningService
let document: {
  paths: Record<
    string,
    { get: { responses: Record<string, { content: Record<string, { schema: object }> }> } }
  >
  components: { schemas: Record<string, object> }
}

beforeAll(async () => {
  up = await startService(postgres.app)
  down = await startService({ ...postgres.app, port: await findFreePort() })
  await up.monitor.check()
  await down.monitor.check()
  document = await (await fetch(`${up.url}/openapi.json`)).json()
})
afterAll(async () => {
  await up?.close()
  await down?.close()
})

function schemaFor(path: string, status: number, mediaType: string): object {
  const response = document.paths[path]?.get.responses[String(status)]
  const content = response?.content[mediaType]
  if (!content) throw new Error(`the OpenAPI document has no ${status} ${mediaType} response for GET ${path}`)
  return { ...content.schema, components: document.components }
}

const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats.default(ajv)

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator()

    const result = await validator.validate(document as never)

    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('describes every REST route the app serves', () => {
    expect(Object.keys(document.paths).sort()).toEqual(
      ['/health', '/healthz', '/livez', '/metrics', '/number_of_tables', '/openapi.json', '/readyz'].sort(),
    )
  })

  const cases: Array<[string, 'up' | 'down', number, string, string?]> = [
    ['/health', 'up', 200, 'application/json'],
    ['/health', 'down', 503, 'application/json'],
    ['/health', 'up', 200, 'application/health+json', 'application/health+json'],
    ['/health', 'down', 503, 'application/health+json', 'application/health+json'],
    ['/healthz', 'up', 200, 'application/health+json'],
    ['/healthz', 'down', 503, 'application/health+json'],
    ['/livez', 'down', 200, 'application/json'],
    ['/readyz', 'up', 200, 'application/json'],
    ['/readyz', 'down', 503, 'application/json'],
    ['/number_of_tables', 'up', 200, 'application/json'],
    ['/number_of_tables', 'down', 503, 'application/json'],
    ['/openapi.json', 'up', 200, 'application/json'],
  ]
  it.each(cases)(
    'GET %s with the database %s answers %i %s as described',
    async (path, state, status, mediaType, accept) => {
      const service = state === 'up' ? up : down

      const response = await fetch(`${service.url}${path}`, { headers: accept ? { accept } : {} })
      const body = await response.json()
      const validate = ajv.compile(schemaFor(path, status, mediaType))

      expect(response.status).toBe(status)
      expect(response.headers.get('content-type')?.split(';')[0]).toBe(mediaType)
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true)
    },
  )

  it('the check can fail: a body that breaks the description is caught', () => {
    const validate = ajv.compile(schemaFor('/number_of_tables', 200, 'application/json'))

    expect(validate({ number_of_tables: 189 })).toBe(false)
  })
})
