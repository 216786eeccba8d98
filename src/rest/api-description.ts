import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { RestResponse } from '../http/respond.js'
import { openApiDocument } from './openapi.js'

// The document never changes while the service runs: serialised once, with a validator of its bytes.
// In its own order (openapi, info, paths...), not the seed's sorted keys: it is not a seed answer, and
// contract checkers that match media types loosely (Prism) take the first that fits.
const text = `${JSON.stringify(openApiDocument)}\n`
// Weak: the gzipped and the plain bytes are the same document, and share it.
const etag = `W/"${createHash('sha256').update(text).digest('base64url').slice(0, 22)}"`
// Fresh for 5 minutes, then revalidated (a 304 costs no body): a new version is seen within minutes.
const caching = { etag, 'cache-control': 'public, max-age=300' }

/** GET /openapi.json: the API description, or 304 when the client's copy (If-None-Match) is current. */
export function getApiDescription(req: IncomingMessage): RestResponse {
  if (matches(req.headers['if-none-match'], etag)) {
    // The 200's Vary, so a cache keeps the right copy (RFC 9110 15.4.5).
    return { status: 304, headers: { ...caching, vary: 'Accept-Encoding' } }
  }
  return { status: 200, text, headers: { ...caching, 'content-type': 'application/json' } }
}

/** If-None-Match's weak comparison (RFC 9110 13.1.2): `*`, or any listed tag with the same opaque part. */
function matches(header: string | undefined, tag: string): boolean {
  if (!header) return false
  const opaque = (value: string) => value.trim().replace(/^W\//, '')
  return header.split(',').some((candidate) => candidate.trim() === '*' || opaque(candidate) === opaque(tag))
}
