import type { Server } from 'node:net'
import { isTrusted, parseProxyList, peerAddress } from './client-address.js'
import { SharedSlots } from './client-share.js'

export interface ConnectionLimitOptions {
  /** HTTP_MAX_CONNECTIONS: open connections in total. */
  maxConnections: number
  /** How many of them one address may hold (CLIENT_MAX_SHARE_PERCENT of the total). */
  perClient: number
  /** TRUSTED_PROXIES: their connections carry many clients, and count under the total only. */
  trustedProxies: readonly string[]
}

/**
 * Bounds the open connections, in total and per client address, so that idle and trickling sockets
 * (about 10 KB each, docs/security.md) cannot take the process past its memory ceiling, nor one client
 * hold them all. A connection over either bound is closed as soon as it is accepted, before a byte is
 * read, as nginx does past worker_connections: an answer would cost what the bound saves.
 */
export function limitConnections(server: Server, options: ConnectionLimitOptions): { readonly open: number } {
  const slots = new SharedSlots(options.maxConnections, options.perClient)
  const proxies = parseProxyList(options.trustedProxies).list
  server.on('connection', (socket) => {
    const peer = peerAddress(socket)
    // A proxy's connections carry many clients: only the total bounds them.
    const release = slots.take(peer, isTrusted(proxies, peer) ? Number.POSITIVE_INFINITY : undefined)
    if (typeof release === 'function') socket.once('close', release)
    else socket.destroy()
  })
  return {
    get open() {
      return slots.count
    },
  }
}
