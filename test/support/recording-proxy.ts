import { startTcpRelay } from './tcp-relay.js'

export interface RecordingProxy {
  /** host:port to give clients instead of the target's. */
  address: string
  /** Every byte each side sent, as it went through. */
  readonly fromClients: Buffer
  readonly fromTarget: Buffer
  close(): Promise<void>
}

/**
 * A TCP relay on 127.0.0.1 that forwards both ways unchanged and keeps a copy of what passed: to see
 * what a real client (Prometheus) asked for and what went over the wire, without touching either end.
 * Bounded: it keeps at most the first `maxBytes` of each direction.
 */
export async function startRecordingProxy(target: { host: string; port: number }, maxBytes = 4_000_000) {
  const fromClients: Buffer[] = []
  const fromTarget: Buffer[] = []
  const kept = new Map<Buffer[], number>()
  const keep = (into: Buffer[]) => (chunk: Buffer) => {
    const size = kept.get(into) ?? 0
    if (size < maxBytes) {
      into.push(chunk)
      kept.set(into, size + chunk.length)
    }
  }
  const relay = await startTcpRelay(target, (client, upstream) => {
    client.on('data', keep(fromClients))
    upstream.on('data', keep(fromTarget))
    client.pipe(upstream)
    upstream.pipe(client)
  })
  const proxy: RecordingProxy = {
    address: `127.0.0.1:${relay.port}`,
    get fromClients() {
      return Buffer.concat(fromClients)
    },
    get fromTarget() {
      return Buffer.concat(fromTarget)
    },
    close: relay.close,
  }
  return proxy
}
