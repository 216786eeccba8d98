import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { resolve } from 'node:path'

// The seed's Flask responses, recorded byte for byte (a copy kept in docs/seed/). Used by
// test/seed-bytes.test.ts against a service process and by the container suite against the image.
export const RECORDED = readFileSync(
  resolve(import.meta.dirname, '../../docs/seed/flask-responses.md'),
  'utf8',
)
export const SEED_ALLOW = 'OPTIONS, HEAD, GET'

/** The recorded body of the example whose first line starts with `title`, with NAME replaced. */
export function seedBody(title: string, containerName: string): string {
  const section = RECORDED.slice(RECORDED.indexOf(title))
  const line = section.split('\n').find((text) => text.startsWith('{')) ?? ''
  // The recording marks the closing newline as a literal `\n` followed by a note.
  const body = line.slice(0, line.indexOf('\\n'))
  return `${body.replace('NAME', containerName)}\n`
}

/** One raw HTTP exchange, so status line, headers and body bytes are exactly what went over the wire. */
export function exchange(base: string, method: string, path: string) {
  return new Promise<{
    status: number
    headers: Record<string, string | string[] | undefined>
    body: Buffer
  }>((resolveExchange, reject) => {
    const req = request(`${base}${path}`, { method }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolveExchange({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}
