import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { findFreePort } from '../../src/net/free-port.js'
import { type LiveAnswer, send } from '../support/openapi-contract.js'
import { type RunningPrism, startPrism } from '../support/prism.js'
import { type RunningService, startService } from '../support/service.js'

// Stoplight Prism in proxy mode, the contract checker that found the gaps: it forwards each request to
// the service and reports, in an sl-violations header, whatever in the request or the answer breaks
// the document the service serves. Two of Prism's own limits leave some answers to the checker of
// test/operations/openapi.test.ts: it answers HEAD with 500 whatever the document says (it parses the
// empty body of a JSON answer), and it ignores a media type's suffix (application/health+json is
// application/json to it), so it holds /health's health+json answer to the first of the two schemas.
const postgres = inject('postgres')
let up: RunningService
let down: RunningService
let prismUp: RunningPrism
let prismDown: RunningPrism
let prismOfBrokenDocument: RunningPrism
const dir = await mkdtemp(join(tmpdir(), 'ctera-test-prism-'))

beforeAll(async () => {
  up = await startService(postgres.app)
  down = await startService({ ...postgres.app, port: await findFreePort() })
  await up.monitor.check()
  await down.monitor.check()
  const document = await (await fetch(`${up.url}/openapi.json`)).json()
  // The same document with one promise the service does not keep: /livez's status spelled otherwise.
  document.components.schemas.Liveness.properties.status = { const: 'alive and well' }
  document.components.headers.RetryAfter.schema = { type: 'string', pattern: '^60$' }
  await writeFile(join(dir, 'broken.json'), JSON.stringify(document))
  ;[prismUp, prismDown, prismOfBrokenDocument] = await Promise.all([
    startPrism(`${up.url}/openapi.json`, up.url),
    startPrism(`${up.url}/openapi.json`, down.url),
    startPrism(join(dir, 'broken.json'), down.url),
  ])
})
afterAll(async () => {
  await Promise.all([prismUp?.stop(), prismDown?.stop(), prismOfBrokenDocument?.stop()])
  await up?.close()
  await down?.close()
  await rm(dir, { recursive: true, force: true })
})

const PATHS = ['/health', '/healthz', '/livez', '/readyz', '/number_of_tables', '/metrics', '/openapi.json']
// Prism's node-fetch would un-gzip the body but pass Content-Encoding on: gzip is checked without Prism.
const PLAIN = { 'accept-encoding': 'identity' }

async function throughPrism(prism: RunningPrism): Promise<LiveAnswer[]> {
  const answers: LiveAnswer[] = []
  for (const path of PATHS)
    for (const method of ['GET', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'])
      answers.push(await send(prism.url, method, path, PLAIN))
  answers.push(
    await send(prism.url, 'GET', '/health', {
      ...PLAIN,
      accept: 'application/health+json;q=0.9, application/json',
    }),
  )
  return answers
}

const violationsOf = (answers: LiveAnswer[]) =>
  answers.flatMap((answer) =>
    answer.headers['sl-violations']
      ? [`${answer.method} ${answer.path} ${answer.status}: ${answer.headers['sl-violations']}`]
      : [],
  )

describe('Stoplight Prism (proxy mode) between a client and the service', () => {
  it('finds no violation on any REST route and method, database up', async () => {
    const answers = await throughPrism(prismUp)

    expect(violationsOf(answers)).toEqual([])
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200, 405]))
  })

  it('finds no violation on any REST route and method, database down', async () => {
    const answers = await throughPrism(prismDown)

    expect(violationsOf(answers)).toEqual([])
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200, 405, 503]))
  })

  it('can fail: a body or a header the document does not describe is reported', async () => {
    const body = await send(prismOfBrokenDocument.url, 'GET', '/livez', PLAIN)
    const header = await send(prismOfBrokenDocument.url, 'GET', '/number_of_tables', PLAIN)

    expect([body.status, header.status]).toEqual([200, 503])
    expect(violationsOf([body])).toEqual([expect.stringContaining('must be equal to constant')])
    expect(violationsOf([header])).toEqual([expect.stringMatching(/retry-after.*must match pattern/i)])
  })
})
