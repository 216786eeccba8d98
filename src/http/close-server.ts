import type { Server } from 'node:http'
import net from 'node:net'
import type { Logger } from '../logger.js'

// A client that has just connected has not sent its request yet, and would count as idle.
const IDLE_GRACE_MS = 1000
// How often, and at most how long, the listener keeps accepting what was already queued (below).
const ACCEPT_TURN_MS = 20

/**
 * Closing a listener resets every connection the kernel has completed but Node has not accepted yet:
 * a signal just after start-up, while the event loop was busy, reset 28 of 30 such clients. So the
 * listener stays open until a turn of the event loop passes with no new connection (at most the idle
 * grace); those accepted meanwhile are answered, with `Connection: close`.
 */
async function acceptWaiting(server: Server): Promise<void> {
  let accepted = 0
  const count = () => accepted++
  server.on('connection', count)
  const until = performance.now() + IDLE_GRACE_MS
  let before = -1
  while (accepted !== before && performance.now() < until) {
    before = accepted
    await new Promise((resolve) => setTimeout(resolve, ACCEPT_TURN_MS))
  }
  server.off('connection', count)
}

/**
 * Stops accepting, ends streams, lets in-flight requests finish, and cuts whatever is left after the
 * timeout. Node's server.close() also drops idle connections at once, which includes one that was
 * accepted a moment ago and whose request is still on its way; so only the listener is closed first, and
 * idle connections are dropped after a grace period (responses meanwhile say `Connection: close`).
 */
export async function closeServer(
  server: Server,
  timeoutMs: number,
  logger: Logger,
  endStreams: () => void = () => {},
): Promise<void> {
  if (!server.listening) return
  await acceptWaiting(server)
  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()))
  // Long-lived responses (GraphQL subscriptions over SSE) would hold the server open until the timeout.
  endStreams()
  const timers: NodeJS.Timeout[] = []
  const after = (ms: number) =>
    new Promise<'timeout'>((resolve) => timers.push(setTimeout(() => resolve('timeout'), ms)))
  if ((await Promise.race([closed, after(Math.min(IDLE_GRACE_MS, timeoutMs))])) === 'timeout') {
    server.closeIdleConnections()
    if ((await Promise.race([closed, after(Math.max(timeoutMs - IDLE_GRACE_MS, 0))])) === 'timeout') {
      logger.warn({ timeoutMs }, 'requests still running at the shutdown timeout: closing their connections')
      server.closeAllConnections()
      await closed
    }
  }
  for (const timer of timers) clearTimeout(timer)
}
