import { randomBytes } from 'node:crypto'
import { createServer, get, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { startServiceProcess } from '../support/process.js'

// The compiled service in a process of its own, configured by the standard OTEL_* variables only,
// sending OTLP/HTTP (JSON) to a receiver on 127.0.0.1 that this test runs.
const postgres = inject('postgres')

interface Attribute {
  key: string
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean }
}
interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes: Attribute[]
}

const spans: ReceivedSpan[] = []
const resources: Attribute[][] = []
let receiver: Server
let endpoint: string

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.method === 'POST') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: Array<{
            resource: { attributes: Attribute[] }
            scopeSpans: Array<{ spans: ReceivedSpan[] }>
          }>
        }
        for (const resourceSpans of body.resourceSpans) {
          resources.push(resourceSpans.resource.attributes)
          for (const scope of resourceSpans.scopeSpans) spans.push(...scope.spans)
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`
})
afterAll(() => new Promise((resolve) => receiver.close(resolve)))

const attribute = (span: ReceivedSpan | undefined, key: string) => {
  const value = span?.attributes.find((each) => each.key === key)?.value
  return value?.stringValue ?? (value?.intValue === undefined ? value?.boolValue : Number(value.intValue))
}
const hex = (bytes: number) => randomBytes(bytes).toString('hex')

async function spansOf(traceId: string, atLeast: number, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (spans.filter((span) => span.traceId === traceId).length < atLeast && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return spans.filter((span) => span.traceId === traceId)
}

function query(port: number, headers: Record<string, string>) {
  return fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: 'query Overview { health { healthy } numberOfTables }' }),
  })
}

describe('OpenTelemetry traces (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let service: Awaited<ReturnType<typeof startServiceProcess>>

  beforeAll(async () => {
    service = await startServiceProcess(postgres.app, {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_SERVICE_NAME: 'ctera-app-traced',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      HEALTH_INTERVAL_MS: '200',
    })
  })
  afterAll(() => service?.stop())

  it('sends the HTTP, GraphQL and database spans of a sampled request, each a child of the one above', async () => {
    const traceId = hex(16)
    const callerSpanId = hex(8)

    const response = await query(service.port, {
      traceparent: `00-${traceId}-${callerSpanId}-01`,
      'x-request-id': 'traced-request-1',
    })
    const received = await spansOf(traceId, 3)

    expect(response.status).toBe(200)
    const http = received.find((span) => span.name === 'POST /graphql')
    const graphql = received.find((span) => span.name === 'query Overview')
    const database = received.filter((span) => span.parentSpanId === graphql?.spanId)
    expect(http?.parentSpanId).toBe(callerSpanId)
    expect(http?.kind).toBe(2) // SERVER
    expect(attribute(http, 'http.route')).toBe('/graphql')
    expect(attribute(http, 'http.request.method')).toBe('POST')
    expect(attribute(http, 'http.response.status_code')).toBe(200)
    expect(attribute(http, 'ctera.request_id')).toBe('traced-request-1')
    expect(attribute(http, 'url.path')).toBe('/graphql')
    expect(attribute(http, 'url.scheme')).toBe('http')
    expect(attribute(http, 'server.address')).toBe('127.0.0.1')
    expect(attribute(http, 'server.port')).toBe(service.port)
    expect(graphql?.parentSpanId).toBe(http?.spanId)
    expect(attribute(graphql, 'graphql.operation.name')).toBe('Overview')
    expect(attribute(graphql, 'graphql.operation.type')).toBe('query')
    const count = database.find((span) =>
      String(attribute(span, 'db.query.text')).includes('information_schema.tables'),
    )
    expect(count?.name).toBe('SELECT')
    expect(count?.kind).toBe(3) // CLIENT
    expect(attribute(count, 'db.system')).toBe('postgresql')
    expect(attribute(count, 'db.namespace')).toBe(postgres.app.database)
    expect(resources.flat()).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'ctera-app-traced' },
    })
  })

  it('records the path without its query string, and nothing a client put in it', async () => {
    const traceId = hex(16)

    // node:http, not fetch: fetch does not let a caller choose the Host header, as a reverse proxy does.
    await new Promise((resolve, reject) =>
      get(
        {
          host: '127.0.0.1',
          port: service.port,
          path: '/health?token=hunter2',
          headers: { traceparent: `00-${traceId}-${hex(8)}-01`, host: 'ctera.example:8443' },
        },
        (res) => res.resume().on('end', resolve),
      ).on('error', reject),
    )
    // The SERVER span ends last, maybe in a later batch than its children.
    const http = await vi.waitUntil(() => spans.find((span) => span.traceId === traceId && span.kind === 2), {
      timeout: 10_000,
    })

    expect(attribute(http, 'url.path')).toBe('/health')
    expect(attribute(http, 'server.address')).toBe('ctera.example')
    expect(attribute(http, 'server.port')).toBe(8443)
    expect(JSON.stringify(http)).not.toContain('hunter2')
  })

  it('links the request log line to the trace: the same traceId, and the HTTP span id', async () => {
    const traceId = hex(16)
    await query(service.port, {
      traceparent: `00-${traceId}-${hex(8)}-01`,
      'x-request-id': 'traced-request-2',
    })
    const [http] = (await spansOf(traceId, 3)).filter((span) => span.name === 'POST /graphql')

    const line = service.service.stdout
      .map((text) => JSON.parse(text) as Record<string, unknown>)
      .find((entry) => entry.msg === 'request' && entry.requestId === 'traced-request-2')

    expect(line).toMatchObject({ traceId, spanId: http?.spanId })
  })

  it('follows the caller: a trace it did not sample sends nothing, and background checks start no trace', async () => {
    const unsampled = hex(16)

    await query(service.port, { traceparent: `00-${unsampled}-${hex(8)}-00` })
    await new Promise((resolve) => setTimeout(resolve, 1000)) // ten batches at OTEL_BSP_SCHEDULE_DELAY=100

    expect(spans.filter((span) => span.traceId === unsampled)).toEqual([])
    // Every span so far belongs to a request's trace: the monitor's checks every 200 ms made none.
    expect(spans.every((span) => span.parentSpanId || span.name.startsWith('POST '))).toBe(true)
  })
})

describe('sampling and off by default', () => {
  it('samples new traces by OTEL_TRACES_SAMPLER_ARG: at 0, fifty requests without traceparent send nothing', async () => {
    const before = spans.length
    const service = await startServiceProcess(postgres.app, {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces`,
      OTEL_TRACES_SAMPLER_ARG: '0',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    })
    try {
      for (let i = 0; i < 50; i++) await query(service.port, {})
      const traceId = hex(16)
      await query(service.port, { traceparent: `00-${traceId}-${hex(8)}-01` })
      const followed = await spansOf(traceId, 3)

      expect(followed.length).toBeGreaterThanOrEqual(3)
      expect(spans.slice(before).every((span) => span.traceId === traceId)).toBe(true)
    } finally {
      await service.stop()
    }
  })

  it('is off without an OTLP endpoint: no span leaves, and log lines carry no trace ids', async () => {
    const before = spans.length
    const service = await startServiceProcess(postgres.app, {})
    try {
      await query(service.port, { traceparent: `00-${hex(16)}-${hex(8)}-01`, 'x-request-id': 'untraced' })
      await new Promise((resolve) => setTimeout(resolve, 500))
      const line = service.service.stdout
        .map((text) => JSON.parse(text) as Record<string, unknown>)
        .find((entry) => entry.requestId === 'untraced')

      expect(spans.length).toBe(before)
      expect(line).toBeDefined()
      expect(line).not.toHaveProperty('traceId')
      expect(service.service.stdout.join('\n')).not.toContain('tracing:')
    } finally {
      await service.stop()
    }
  })
})
