import { request as httpRequest } from 'node:http'
import { gunzipSync } from 'node:zlib'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'

/** An answer as it came off the wire: lower-case header names, the body decoded from gzip if it was. */
export interface LiveAnswer {
  method: string
  path: string
  status: number
  headers: Record<string, string>
  body: string
}

/** Any method (fetch refuses TRACE), with the body read whole and un-gzipped. */
export function send(base: string, method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<LiveAnswer>((resolve, reject) => {
    const request = httpRequest(new URL(path, base), { method, headers }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', reject)
      response.on('end', () => {
        const raw = Buffer.concat(chunks)
        const gzipped = response.headers['content-encoding'] === 'gzip' && raw.length > 0
        const flat: Record<string, string> = {}
        for (const [name, value] of Object.entries(response.headers))
          if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
        resolve({
          method,
          path,
          status: response.statusCode ?? 0,
          headers: flat,
          body: (gzipped ? gunzipSync(raw) : raw).toString('utf8'),
        })
      })
    })
    request.on('error', reject)
    request.end()
  })
}

// The headers the API description promises; transport ones (content-length, date, connection...) are HTTP's.
const CONTRACT_HEADERS = [
  'x-request-id',
  'cache-control',
  'vary',
  'retry-after',
  'allow',
  'etag',
  'content-encoding',
  'www-authenticate',
]

type Json = Record<string, unknown>
interface ResponseSpec {
  headers?: Record<string, Json>
  content?: Record<string, { schema: Json }>
}

/**
 * Checks live answers against an OpenAPI 3.1 document, as a contract checker does: the operation and
 * the status must be described, every required header present and every header's value valid, no
 * header of the contract sent undescribed, the media type described and the body valid against its
 * schema (no body for HEAD, 304 and answers described without content). An undescribed path must get
 * components.responses.NotFound (or Unauthorized).
 */
export function createContractChecker(document: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats.default(ajv)
  const compiled = new Map<string, ValidateFunction>()
  const validate = (schema: Json) => {
    const key = JSON.stringify(schema)
    let check = compiled.get(key)
    if (!check) {
      check = ajv.compile({ ...schema, components: document.components })
      compiled.set(key, check)
    }
    return check
  }
  const resolve = <T>(value: T): T => {
    const pointer = (value as { $ref?: string }).$ref
    if (!pointer) return value
    const found = pointer
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Json | undefined)?.[key], document)
    if (!found) throw new Error(`unresolvable $ref ${pointer}`)
    return resolve(found as T)
  }

  return function violations(answer: LiveAnswer): string[] {
    const where = `${answer.method} ${answer.path} ${answer.status}`
    const paths = document.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>
    const pathItem = paths[answer.path.split('?')[0] ?? '']
    let spec: ResponseSpec
    if (!pathItem) {
      // 401 when the service has a bearer token and the request did not carry it.
      const name = { 404: 'NotFound', 401: 'Unauthorized' }[answer.status]
      if (!name) return [`${where}: an undescribed path answered other than 404 (or 401)`]
      const described = (document.components as { responses?: Json } | undefined)?.responses?.[name]
      if (!described) return [`${where}: components.responses.${name} is not described`]
      spec = resolve(described) as ResponseSpec
    } else {
      const operation = pathItem[answer.method.toLowerCase()]
      if (!operation) return [`${where}: the method is not described for this path`]
      const described = operation.responses[String(answer.status)]
      if (!described) return [`${where}: the status is not described`]
      spec = resolve(described) as ResponseSpec
    }

    const problems: string[] = []
    const documented = Object.entries(spec.headers ?? {}).map(
      ([name, header]) => [name.toLowerCase(), resolve(header)] as const,
    )
    for (const [name, header] of documented) {
      const value = answer.headers[name]
      if (value === undefined) {
        if (header.required) problems.push(`${where}: required header ${name} is missing`)
        continue
      }
      const check = validate(header.schema as Json)
      if (!check(value))
        problems.push(`${where}: header ${name}: ${JSON.stringify(value)} ${ajv.errorsText(check.errors)}`)
    }
    for (const name of CONTRACT_HEADERS)
      if (
        answer.headers[name] !== undefined &&
        !documented.some(([documentedName]) => documentedName === name)
      )
        problems.push(`${where}: header ${name} is sent but not described`)

    const expectsBody = answer.method !== 'HEAD' && answer.status !== 304 && spec.content !== undefined
    if (!expectsBody) {
      if (answer.body !== '') problems.push(`${where}: a body where none is described`)
      return problems
    }
    const mediaType = (answer.headers['content-type'] ?? '').split(';')[0]?.trim() ?? ''
    const content = spec.content?.[mediaType]
    if (!content) return [...problems, `${where}: media type ${mediaType} is not described`]
    const parsed = /json$/.test(mediaType) ? JSON.parse(answer.body) : answer.body
    const check = validate(content.schema)
    if (!check(parsed)) problems.push(`${where}: body: ${ajv.errorsText(check.errors)}`)
    return problems
  }
}
