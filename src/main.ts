// First: refuses an unsupported Node before anything else loads.
import './require-supported-node.js'
import { type Config, loadConfig } from './config/load-config.js'
import { ConfigError } from './config/readers.js'

const DUPLICATE_SIGNAL_MS = 500

/** Start-up failures the user can fix: one line on stderr, exit 1, no stack trace. */
function exitWithError(message: string): never {
  process.stderr.write(`ctera-app: ${message}\n`)
  process.exit(1)
}

async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) exitWithError(`invalid configuration: ${error.message}`)
    throw error
  }
  // The GraphQL stack takes most of a second to load: a configuration error is reported before it.
  const [{ createLogger }, { Shutdown }, { startService, ListenError }, { EmbeddedPostgresError }] =
    await Promise.all([
      import('./logger.js'),
      import('./shutdown.js'),
      import('./service.js'),
      import('./db/embedded/embedded-errors.js'),
    ])
  const logger = createLogger(config.logLevel)
  process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled promise rejection'))

  // Signals are handled from here on, so a SIGTERM during start-up still stops what was started.
  const shutdown = new Shutdown(logger)
  let firstSignalAt: number | undefined
  const stop = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== undefined) {
      // One Ctrl-C reaches us twice under `npm start` or `npm run dev` (from the terminal to the whole
      // process group, and again forwarded by npm or tsx): that copy waits for the same shutdown.
      if (performance.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return
      logger.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    firstSignalAt = performance.now()
    // Exit only once the last log lines are written: on a terminal or a full pipe, pino may still hold them.
    void shutdown.run(signal).then(() => logger.flush(() => process.exit(0)))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // A closed terminal or `kill -HUP`: nothing to reload here, so it stops gracefully too (Node's default is to die at once).
  process.on('SIGHUP', stop)

  try {
    await startService(config, logger, { shutdown })
  } catch (error) {
    if (error instanceof ListenError || error instanceof EmbeddedPostgresError) exitWithError(error.message)
    throw error
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `ctera-app: failed to start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`,
  )
  process.exit(1)
})
