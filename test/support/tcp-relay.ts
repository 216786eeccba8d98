import { connect, createServer, type Socket } from 'node:net'

/**
 * A TCP relay on 127.0.0.1 to a real server: each client gets a connection of its own to the target, the
 * two close together, and `forward` decides how bytes cross (as they are, delayed, copied on the way).
 */
export async function startTcpRelay(
  target: { host: string; port: number },
  forward: (client: Socket, upstream: Socket) => void,
) {
  const sockets = new Set<Socket>()
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
    forward(client, upstream)
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
