import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { createApp } from './app.js'
import { type Config, ConfigError, type ConnectionSettings, loadConfig } from './config.js'
import { createDatabase } from './db/database.js'
import { EmbeddedPostgresError, startEmbeddedPostgres } from './db/embedded.js'
import { createLogger, type Logger } from './logger.js'
import { createHttpServer } from './server.js'
import { closeServer, Shutdown } from './shutdown.js'

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
  const logger = createLogger(config.logLevel)
  process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled promise rejection'))

  // Signals are handled from here on, so a SIGTERM during start-up still stops what was started.
  const shutdown = new Shutdown(logger)
  const stop = (signal: NodeJS.Signals) => void shutdown.run(signal).then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // A closed terminal or `kill -HUP`: nothing to reload here, so it stops gracefully too (Node's default is to die at once).
  process.on('SIGHUP', stop)

  const settings = await connectionSettings(config, logger, shutdown)
  const db = createDatabase(settings, config, logger)
  shutdown.add('close the database pools', () => db.close())
  logger.info({ database: db.description, embedded: config.database.kind === 'embedded' }, 'using database')

  const app = createApp({ config, db, logger, version: packageVersion() })
  shutdown.add('dispose GraphQL', () => app.dispose())
  const server = createHttpServer(config, app.handle)
  try {
    await listen(server, config.port, config.host)
  } catch (error) {
    await shutdown.run('cannot listen')
    exitWithError(
      `cannot listen on ${config.host}:${config.port} (${(error as NodeJS.ErrnoException).code ?? error})`,
    )
  }
  app.monitor.start()
  // Run first at shutdown: readiness 503 at once (liveness stays 200), keep serving while load balancers
  // notice, then stop accepting, end live subscriptions, and let in-flight requests finish.
  shutdown.add('stop accepting, end subscriptions, finish requests', async () => {
    app.monitor.beginShutdown()
    if (config.shutdownDrainMs > 0) {
      logger.info({ drainMs: config.shutdownDrainMs }, 'draining: not ready, still serving')
      await sleep(config.shutdownDrainMs)
    }
    await closeServer(server, config.shutdownTimeoutMs, logger, () => app.monitor.stop())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const scheme = config.tls ? 'https' : 'http'
  logger.info(
    { host: config.host, port, tls: Boolean(config.tls), graphql: `${scheme}://localhost:${port}/graphql` },
    'listening',
  )
}

/** The configured database, or the embedded one started now when none is configured. */
async function connectionSettings(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
): Promise<ConnectionSettings> {
  if (config.database.kind === 'external') return config.database
  logger.info(
    { dataDir: config.database.dataDir },
    'no database configured: starting the embedded PostgreSQL',
  )
  const embedded = await startEmbeddedPostgres({ dataDir: config.database.dataDir, logger })
  shutdown.add('stop the embedded PostgreSQL', () => embedded.stop())
  return embedded.settings
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version
  } catch {
    return '0.0.0'
  }
}

main().catch((error: unknown) => {
  if (error instanceof EmbeddedPostgresError) exitWithError(error.message)
  exitWithError(`failed to start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`)
})
