/** Where a client on this machine reaches a server bound to `host`: loopback for the wildcard addresses. */
export function reachableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
}
