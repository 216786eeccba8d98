import type { Server } from 'node:http'
import type { Socket } from 'node:net'
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

export interface ConnectionLimit {
  readonly open: number
  /** Connections closed to make room for a newer one, and refused, since the start. */
  readonly evicted: number
  readonly refused: number
}

/**
 * Bounds the open connections, in total and per client address, so that idle and trickling sockets
 * (about 10 KB each: docs/security.md) cannot take the process past its memory ceiling, nor one address
 * hold more than its share.
 *
 * A connection from an address that holds its share already is closed as soon as it is accepted, before
 * a byte is read. When the total is reached, the newcomer is not turned away: the oldest connection with
 * no request in progress (one that never sent a whole request head, or an idle keep-alive) is closed to
 * make room, so thousands of idle sockets from many addresses cannot lock out a probe or a client, and a
 * request being answered is never cut. Only when every connection is busy is the newcomer closed.
 */
export function limitConnections(server: Server, options: ConnectionLimitOptions): ConnectionLimit {
  const slots = new SharedSlots(options.maxConnections, options.perClient)
  const proxies = parseProxyList(options.trustedProxies).list
  // Connections with no request in progress, oldest first (a Map keeps insertion order), each with
  // the function that gives its slot back.
  const idle = new Map<Socket, () => void>()
  const releases = new WeakMap<Socket, () => void>()
  let evicted = 0
  let refused = 0

  server.on('connection', (socket: Socket) => {
    const peer = peerAddress(socket)
    // A proxy's connections carry many clients: only the total bounds them.
    const share = isTrusted(proxies, peer) ? Number.POSITIVE_INFINITY : undefined
    let release = slots.take(peer, share)
    if (release === 'full') {
      const oldest = idle.entries().next().value
      if (oldest) {
        const [victim, giveBack] = oldest
        idle.delete(victim)
        giveBack()
        victim.destroy()
        evicted++
        release = slots.take(peer, share)
      }
    }
    if (typeof release !== 'function') {
      refused++
      socket.destroy()
      return
    }
    releases.set(socket, release)
    idle.set(socket, release)
    socket.once('close', () => {
      idle.delete(socket)
      release()
    })
  })
  server.on('request', (req, res) => {
    // Over HTTPS the request's socket is the TLS socket over the TCP one counted above.
    const socket = (req.socket as Socket & { _parent?: Socket })._parent ?? req.socket
    idle.delete(socket)
    res.once('close', () => {
      const release = releases.get(socket)
      if (release && !socket.destroyed) idle.set(socket, release)
    })
  })
  return {
    get open() {
      return slots.count
    },
    get evicted() {
      return evicted
    },
    get refused() {
      return refused
    },
  }
}
