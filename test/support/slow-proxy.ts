import type { Socket } from 'node:net'
import { startTcpRelay } from './tcp-relay.js'

/**
 * A TCP proxy on 127.0.0.1 that forwards both ways to a real server after a delay: a database across a
 * slow network, without faking the database.
 */
export function startSlowProxy(target: { host: string; port: number }, delayMs: number) {
  return startTcpRelay(target, (client, upstream) => {
    const later = (to: Socket) => (chunk: Buffer) => setTimeout(() => to.writable && to.write(chunk), delayMs)
    client.on('data', later(upstream))
    upstream.on('data', later(client))
  })
}
