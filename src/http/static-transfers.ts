import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { ClientAddressOf } from './client-address.js'
import { STALLED_FOR_MS } from './stalled-responses.js'

/**
 * Large static bodies (GraphiQL's assets, up to 9 MB without gzip) being written at once, in total and
 * per client. The process holds one shared buffer per asset, whatever the number of readers; what grows
 * with them is the kernel's: each socket takes up to 4 MB (tcp_wmem) of a body its client does not
 * read, and 1,000 such clients filled the host's TCP memory until no connection, /livez included, got an
 * answer. 32 at a time hold at most 128 MB of socket buffers; a browser opens at most 6 connections to
 * a host, hence 8 per client.
 */
export const MAX_TRANSFERS = 32
export const MAX_TRANSFERS_PER_CLIENT = 8
/** What one response hands the kernel per turn of the event loop. */
const SLICE_BYTES = 16 * 1024

export type SendStatic = (
  req: IncomingMessage,
  res: ServerResponse,
  headers: OutgoingHttpHeaders,
  body: Buffer,
) => void

interface Waiting {
  client: string
  start: () => void
}

/**
 * Sends a 200 with a shared buffer once a transfer is free: at most MAX_TRANSFERS at once, and
 * MAX_TRANSFERS_PER_CLIENT for one client. Until then the request waits its turn, first come first
 * served among the clients under their share, so no one is refused and one client's many requests do
 * not hold up the others'. The body goes a slice (a view, not a copy) per turn of the event loop: one
 * write of the whole asset had the kernel copy megabytes at once, and 200 clients that never read held
 * /livez for 3.5 s. A transfer whose client reads nothing for STALLED_FOR_MS is cut, which frees its
 * turn and its socket buffer.
 */
export function createStaticTransfers(clientAddressOf: ClientAddressOf): SendStatic {
  let running = 0
  const runningByClient = new Map<string, number>()
  const waiting: Waiting[] = []
  const mayStart = (client: string) =>
    running < MAX_TRANSFERS && (runningByClient.get(client) ?? 0) < MAX_TRANSFERS_PER_CLIENT
  const startNext = () => {
    const index = waiting.findIndex((each) => mayStart(each.client))
    if (index !== -1) waiting.splice(index, 1)[0]?.start()
  }

  return (req, res, headers, body) => {
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'content-length': body.length })
      return void res.end()
    }
    const client = clientAddressOf(req)
    let state: 'waiting' | 'running' | 'done' = 'waiting'
    const entry: Waiting = {
      client,
      start: () => {
        state = 'running'
        running++
        runningByClient.set(client, (runningByClient.get(client) ?? 0) + 1)
        transfer(res, headers, body)
      },
    }
    res.once('close', () => {
      if (state === 'waiting') waiting.splice(waiting.indexOf(entry), 1)
      if (state === 'running') {
        running--
        const left = (runningByClient.get(client) ?? 1) - 1
        if (left > 0) runningByClient.set(client, left)
        else runningByClient.delete(client)
        startNext()
      }
      state = 'done'
    })
    if (mayStart(client)) entry.start()
    else waiting.push(entry)
  }
}

function transfer(res: ServerResponse, headers: OutgoingHttpHeaders, body: Buffer): void {
  res.writeHead(200, { ...headers, 'content-length': body.length })
  let offset = 0
  let stalled: NodeJS.Timeout | undefined
  const next = (): void => {
    clearTimeout(stalled)
    if (res.destroyed) return
    if (offset >= body.length) return void res.end()
    const slice = body.subarray(offset, offset + SLICE_BYTES)
    offset += slice.length
    if (res.write(slice)) return void setImmediate(next)
    res.once('drain', next)
    stalled = setTimeout(() => res.destroy(), STALLED_FOR_MS)
    stalled.unref()
  }
  res.once('close', () => clearTimeout(stalled))
  next()
}
