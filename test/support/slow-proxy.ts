import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 that forwards both ways to a real server after a delay: a database across a
 * slow network, without faking the database.
 */
export async function startSlowProxy(target: { host: string; port: number }, delayMs: number) {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    const later = (to: Socket) => (chunk: Buffer) => setTimeout(() => to.writable && to.write(chunk), delayMs)
    client.on('data', later(upstream))
    upstream.on('data', later(client))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
