import type { Server } from 'node:http'
import net from 'node:net'
import type { Logger } from './logger.js'

const DUPLICATE_SIGNAL_MS = 500

/**
 * The shutdown order, built up as start-up proceeds: whatever has been started by the time a signal
 * arrives is stopped, newest first (server, then GraphQL, then the pool, then the embedded database).
 */
export class Shutdown {
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = []
  private startedAt: number | undefined
  private running: Promise<void> | undefined

  constructor(private readonly logger: Logger) {}

  /** Adds a step that runs before every step added earlier. */
  add(name: string, run: () => Promise<void>): void {
    this.steps.unshift({ name, run })
  }

  /**
   * Runs every step once, logging failures without stopping. A second signal exits at once, unless it
   * comes within DUPLICATE_SIGNAL_MS of the first: one Ctrl-C reaches us twice under `npm start` or
   * `npm run dev` (from the terminal to the whole process group, and again forwarded by npm or tsx).
   */
  run(reason: string): Promise<void> {
    if (this.running && this.startedAt !== undefined) {
      // The copy of a signal we are already handling: wait for the same shutdown, do not start another.
      if (performance.now() - this.startedAt < DUPLICATE_SIGNAL_MS) return this.running
      this.logger.warn({ reason }, 'second signal: exiting now')
      process.exit(1)
    }
    this.startedAt = performance.now()
    this.running = this.runSteps(reason)
    return this.running
  }

  private async runSteps(reason: string): Promise<void> {
    this.logger.info({ reason }, 'shutting down')
    for (const step of this.steps) {
      try {
        await step.run()
      } catch (error) {
        this.logger.error({ err: error, step: step.name }, 'shutdown step failed')
      }
    }
    this.logger.info('stopped')
  }
}

// A client that has just connected has not sent its request yet, and would count as idle.
const IDLE_GRACE_MS = 1000

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
