import type { Logger } from './logger.js'

/**
 * The shutdown order, built up as start-up proceeds (src/service.ts adds the steps): whatever has been
 * started by the time a stop is asked for is stopped, newest first. A step that fails is logged and the
 * next one still runs. run() is idempotent: a second call waits for the same shutdown.
 */
export class Shutdown {
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = []
  private running: Promise<void> | undefined

  constructor(private readonly logger: Logger) {}

  /** Adds a step that runs before every step added earlier. */
  add(name: string, run: () => Promise<void>): void {
    this.steps.unshift({ name, run })
  }

  run(reason: string): Promise<void> {
    this.running ??= this.runSteps(reason)
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
