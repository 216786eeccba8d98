import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createApp } from './app.js'
import type { Config, ConnectionSettings } from './config.js'
import { startEmbeddedPostgres } from './db/embedded.js'
import { createDatabase } from './db/postgres.js'
import { createHttpServer } from './http/server.js'
import type { Logger } from './logger.js'
import { closeServer, type Shutdown } from './shutdown.js'

/** The whole service, started: stop() runs the shutdown order, newest first. */
export interface RunningService {
  readonly port: number
  stop(reason: string): Promise<void>
}

/** Thrown when the port cannot be had; what was started is stopped already. */
export class ListenError extends Error {
  override name = 'ListenError'
}

/**
 * Builds and starts everything: the database (the embedded one when none is configured), the pools,
 * the app, the HTTP server and the background health monitor. A stop() that arrives during start-up
 * (shutdown.run from a signal) still stops whatever has been started by then.
 */
export async function startService(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
): Promise<RunningService> {
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
    throw new ListenError(listenFailure(error as NodeJS.ErrnoException, config))
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
  const { port } = server.address() as AddressInfo
  const scheme = config.tls ? 'https' : 'http'
  logger.info(
    { host: config.host, port, tls: Boolean(config.tls), graphql: `${scheme}://localhost:${port}/graphql` },
    'listening',
  )
  return { port, stop: (reason) => shutdown.run(reason) }
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

function listenFailure(error: NodeJS.ErrnoException, config: Config): string {
  const where = `${config.host}:${config.port}`
  if (error.code === 'EADDRINUSE') {
    return `cannot listen on ${where}: the port is in use (another ctera-app?); stop that process or set PORT to a free port`
  }
  if (error.code === 'EACCES') {
    return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); set PORT to 1024 or above`
  }
  if (error.code === 'EADDRNOTAVAIL') {
    return `cannot listen on ${where}: no such address on this machine; set HOST to one of its addresses or 0.0.0.0`
  }
  return `cannot listen on ${where} (${error.code ?? error.message})`
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
