import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'

/** The address a per-client budget is charged to. */
export type ClientAddressOf = (req: IncomingMessage) => string

/**
 * TRUSTED_PROXIES as a BlockList (used as an allow-list): exact addresses and CIDR ranges, IPv4 or IPv6.
 * `invalid` is the first entry it cannot read (config.ts names it in its error).
 */
export function parseProxyList(entries: readonly string[]): { list: BlockList; invalid?: string } {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/')
    const family = isIP(address)
    const bits = prefix === undefined ? undefined : Number(prefix)
    const maxBits = family === 6 ? 128 : 32
    const validPrefix = bits === undefined || (/^\d+$/.test(prefix ?? '') && bits <= maxBits)
    if (!family || extra !== undefined || !validPrefix) return { list, invalid: entry }
    const type = family === 6 ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(address, type)
    else list.addSubnet(address, bits, type)
  }
  return { list }
}

/** The socket's peer, with IPv4-mapped IPv6 (`::ffff:127.0.0.1`) written as IPv4. */
export function peerAddress(socket: { remoteAddress?: string | undefined }): string {
  const address = socket.remoteAddress ?? 'unknown'
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}

/** True when `address` is one of the configured proxies. */
export function isTrusted(proxies: BlockList, address: string): boolean {
  const family = isIP(address)
  return family !== 0 && proxies.check(address, family === 6 ? 'ipv6' : 'ipv4')
}

/**
 * Who a request comes from, for per-client budgets. The socket's peer, unless that peer is a trusted
 * proxy: then X-Forwarded-For is read from the right (the hop nearest us) and the first address that is
 * not a trusted proxy is the client. Entries left of it were written by the client and are ignored, so a
 * forged header cannot make one client look like many. Without TRUSTED_PROXIES the header is never read:
 * anyone could otherwise pick a fresh address per request and escape every per-client share.
 */
export function createClientAddressOf(trustedProxies: readonly string[]): ClientAddressOf {
  const { list } = parseProxyList(trustedProxies)
  const none = trustedProxies.length === 0
  const cache = new WeakMap<IncomingMessage, string>()
  return (req) => {
    const known = cache.get(req)
    if (known) return known
    let client = peerAddress(req.socket)
    if (!none && isTrusted(list, client)) {
      const header = req.headers['x-forwarded-for']
      const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')
      for (let index = hops.length - 1; index >= 0; index--) {
        const hop = peerAddress({ remoteAddress: hops[index]?.trim() })
        // A hop that is no address: keep the last trusted one rather than believe the rest.
        if (!isIP(hop)) break
        client = hop
        if (!isTrusted(list, hop)) break
      }
    }
    cache.set(req, client)
    return client
  }
}
