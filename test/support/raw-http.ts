import { Agent, request } from 'node:http'

/** One HTTP request exactly as written: no header added but Host and (for a body) Content-Length. */
export interface RawRequest {
  method: string
  /** Path and query string. */
  path: string
  headers: Record<string, string>
  body?: string | Buffer
}

export interface RawAnswer {
  status: number
  statusMessage: string
  /** Every header as sent, lower-cased names, in order. */
  headers: Array<[string, string]>
  body: Buffer
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 })

/**
 * Sends a request with node:http (fetch would add Accept and other headers of its own), and reads the
 * whole answer. Streams are cut after `maxBytes` so that an open event stream cannot hold a test.
 */
export function sendRaw(baseUrl: string, raw: RawRequest, maxBytes = 256 * 1024): Promise<RawAnswer> {
  const url = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...raw.headers }
    if (raw.body !== undefined) headers['content-length'] = String(Buffer.byteLength(raw.body))
    const req = request(
      { host: url.hostname, port: url.port, method: raw.method, path: raw.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = []
        let received = 0
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
          received += chunk.length
          if (received > maxBytes) res.destroy()
        })
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            statusMessage: res.statusMessage ?? '',
            headers: pairs(res.rawHeaders),
            body: Buffer.concat(chunks),
          })
        res.once('end', done)
        res.once('close', done)
      },
    )
    req.once('error', reject)
    req.end(raw.body)
  })
}

function pairs(raw: string[]): Array<[string, string]> {
  const result: Array<[string, string]> = []
  for (let index = 0; index + 1 < raw.length; index += 2)
    result.push([(raw[index] ?? '').toLowerCase(), raw[index + 1] ?? ''])
  return result
}
