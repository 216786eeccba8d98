import { connect, createServer, type Socket } from 'node:net'

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
  const sockets = new Set<Socket>()
  const fromClients: Buffer[] = []
  const fromTarget: Buffer[] = []
  const keep = (into: Buffer[]) => (chunk: Buffer) => {
    if (into.reduce((sum, part) => sum + part.length, 0) < maxBytes) into.push(chunk)
  }
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', keep(fromClients))
    upstream.on('data', keep(fromTarget))
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const proxy: RecordingProxy = {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    get fromClients() {
      return Buffer.concat(fromClients)
    },
    get fromTarget() {
      return Buffer.concat(fromTarget)
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  return proxy
}
