import type { Server } from 'node:http'
import type { Logger } from './logger.js'

/**
 * The shutdown order, built up as start-up proceeds: whatever has been started by the time a signal
 * arrives is stopped, newest first (server, then GraphQL, then the pool, then the embedded database).
 */
export class Shutdown {
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = []
  private started = false

  constructor(private readonly logger: Logger) {}

  /** Adds a step that runs before every step added earlier. */
  add(name: string, run: () => Promise<void>): void {
    this.steps.unshift({ name, run })
  }

  /** Runs every step once, logging failures without stopping; a second signal exits at once. */
  async run(reason: string): Promise<void> {
    if (this.started) {
      this.logger.warn({ reason }, 'second signal: exiting now')
      process.exit(1)
    }
    this.started = true
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

/** Stops accepting, ends streams, lets in-flight requests finish, and cuts whatever is left after the timeout. */
export async function closeServer(
  server: Server,
  timeoutMs: number,
  logger: Logger,
  endStreams: () => void = () => {},
): Promise<void> {
  if (!server.listening) return
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  // Long-lived responses (GraphQL subscriptions over SSE) would hold the server open until the timeout.
  endStreams()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
  })
  if ((await Promise.race([closed, timedOut])) === 'timeout') {
    logger.warn({ timeoutMs }, 'requests still running at the shutdown timeout: closing their connections')
    server.closeAllConnections()
    await closed
  }
  clearTimeout(timer)
}
