import { createServer, type Server } from 'node:http'
import { createApp } from './app.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { createDatabase } from './db/database.js'
import { type EmbeddedPostgres, EmbeddedPostgresError, startEmbeddedPostgres } from './db/embedded.js'
import { createLogger, type Logger } from './logger.js'

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

  let embedded: EmbeddedPostgres | undefined
  if (config.database.kind === 'embedded') {
    logger.info(
      { dataDir: config.database.dataDir },
      'no database configured: starting the embedded PostgreSQL',
    )
    embedded = await startEmbeddedPostgres({ dataDir: config.database.dataDir, logger })
  }
  const settings = embedded?.settings ?? (config.database.kind === 'external' ? config.database : undefined)
  if (!settings) throw new Error('unreachable: no database settings')

  const db = createDatabase(settings, config, logger)
  logger.info({ database: db.description, embedded: embedded !== undefined }, 'using database')

  const app = createApp({ config, db, logger })
  const server = createServer(app.handle)
  try {
    await listen(server, config.port, config.host)
  } catch (error) {
    await db.close()
    await embedded?.stop()
    exitWithError(
      `cannot listen on ${config.host}:${config.port} (${(error as NodeJS.ErrnoException).code ?? error})`,
    )
  }
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  logger.info({ host: config.host, port, graphql: `http://localhost:${port}/graphql` }, 'listening')

  let stopping = false
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    stopping = true
    logger.info({ signal }, 'shutting down')
    await closeServer(server, config.shutdownTimeoutMs, logger)
    await app.dispose()
    await db.close()
    await embedded?.stop()
    logger.info('stopped')
    process.exit(0)
  }
  process.on('SIGTERM', (signal) => void shutdown(signal))
  process.on('SIGINT', (signal) => void shutdown(signal))
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

/** Stops accepting, lets in-flight requests finish, and cuts whatever is left after the timeout. */
async function closeServer(server: Server, timeoutMs: number, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
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

main().catch((error: unknown) => {
  if (error instanceof EmbeddedPostgresError) exitWithError(error.message)
  exitWithError(`failed to start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`)
})
