import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { type App, type AppConfig, createApp } from './app.js'
import type { ConnectionSettings } from './config/database-target.js'
import type { Config } from './config/load-config.js'
import type { Database } from './db/database.js'
import { installedBinaries } from './db/embedded/binaries.js'
import { startEmbeddedPostgres } from './db/embedded/embedded-postgres.js'
import { createPostgresDatabase } from './db/postgres.js'
import { dampingOptions } from './health/damping.js'
import { HealthMonitor } from './health/monitor.js'
import { clientShare } from './http/client-share.js'
import { closeServer } from './http/close-server.js'
import { createHttpServer } from './http/server.js'
import { Lifecycle } from './lifecycle.js'
import type { Logger } from './logger.js'
import { reachableHost } from './net/reachable-host.js'
import { createMetrics, type Metrics } from './service-metrics.js'
import { Shutdown } from './shutdown.js'
import { startTracing } from './telemetry/tracing.js'

/** The service's parts, wired together and not started: no socket, no timer. */
export interface ServiceParts {
  db: Database
  monitor: HealthMonitor
  lifecycle: Lifecycle
  metrics: Metrics
  app: App
}

/** The whole service, started. */
export interface RunningService extends ServiceParts {
  readonly port: number
  /** `http(s)://127.0.0.1:<port>` (or the HOST it listens on). */
  readonly url: string
  /** Runs the shutdown order once; later calls wait for the same shutdown. */
  stop(reason: string): Promise<void>
}

export interface StartOptions {
  /** main.ts passes its own, so that a signal during start-up stops what has been started so far. */
  shutdown?: Shutdown
  /** Check the database in the background (default true). Tests that count probes turn it off. */
  backgroundChecks?: boolean
  /** GraphQL's fast path (default on); off only to compare it with yoga's own path. */
  graphqlFastPath?: boolean
}

/** Thrown when the port cannot be had; what was started is stopped already. */
export class ListenError extends Error {
  override name = 'ListenError'
}

/**
 * Wires the service on a database: the health monitor reads the database directly, the app answers
 * from all of them. Used by startService, and by the fast tests on an in-memory database.
 */
export function buildService(
  config: AppConfig,
  db: Database,
  logger: Logger,
  version = packageVersion(),
  { graphqlFastPath = true }: { graphqlFastPath?: boolean } = {},
): ServiceParts {
  const monitor = new HealthMonitor(
    db,
    {
      intervalMs: config.healthIntervalMs,
      staleAfterMs: config.healthIntervalMs * config.healthStaleIntervals,
      damping: dampingOptions(config),
      maxWatchers: config.maxSubscriptions,
      maxWatchersPerClient: clientShare(config.maxSubscriptions, config.clientSharePercent),
      maxWatchMs: config.subscriptionMaxMs,
    },
    logger,
  )
  const lifecycle = new Lifecycle()
  const metrics = createMetrics(db, monitor, { showVersions: config.healthDetails })
  const app = createApp({ config, db, monitor, lifecycle, metrics, logger, version, graphqlFastPath })
  return { db, monitor, lifecycle, metrics, app }
}

/**
 * The composition root: starts the database (the embedded one when none is configured), the pools, the
 * app, the HTTP server and the background health monitor, and returns them with stop().
 *
 * stop() runs the shutdown order, newest first, whatever had been started by then:
 *   1. readiness 503 at once (liveness stays 200), keep serving for SHUTDOWN_DRAIN_MS while load
 *      balancers notice; then stop accepting, stop the monitor (ending live subscriptions), and let
 *      in-flight requests finish within SHUTDOWN_TIMEOUT_MS;
 *   2. dispose GraphQL;
 *   3. close the database pools;
 *   4. stop the embedded PostgreSQL, if one was started.
 */
export async function startService(
  config: Config,
  logger: Logger,
  { shutdown = new Shutdown(logger), backgroundChecks = true, graphqlFastPath = true }: StartOptions = {},
): Promise<RunningService> {
  // Registered first, so it runs last at shutdown: spans of the requests that finish while draining are sent.
  if (config.tracing) {
    const tracing = await startTracing(config.tracing, logger)
    shutdown.add('send the last spans', () => tracing.shutdown())
  }
  const settings = await connectionSettings(config, logger, shutdown)
  const db = createPostgresDatabase(settings, config, logger)
  shutdown.add('close the database pools', () => db.close())
  logger.info({ database: db.description, embedded: config.database.kind === 'embedded' }, 'using database')

  const parts = buildService(config, db, logger, packageVersion(), { graphqlFastPath })
  const { app, monitor, lifecycle } = parts
  shutdown.add('dispose GraphQL', () => app.dispose())
  const server = createHttpServer(config, app.handle)
  try {
    await listen(server, config.port, config.host)
  } catch (error) {
    await shutdown.run('cannot listen')
    throw new ListenError(listenFailure(error as NodeJS.ErrnoException, config))
  }
  if (backgroundChecks) monitor.start()
  shutdown.add('stop accepting, end subscriptions, finish requests', async () => {
    lifecycle.beginShutdown()
    if (config.shutdownDrainMs > 0) {
      logger.info({ drainMs: config.shutdownDrainMs }, 'draining: not ready, still serving')
      await sleep(config.shutdownDrainMs)
    }
    await closeServer(server, config.shutdownTimeoutMs, logger, () => monitor.stop())
    // A server that never listened (or closed already) has no streams to end.
    monitor.stop()
  })
  const { port } = server.address() as AddressInfo
  const scheme = config.tls ? 'https' : 'http'
  logger.info(
    {
      host: config.host,
      port,
      tls: Boolean(config.tls),
      bearerToken: Boolean(config.authToken),
      graphql: `${scheme}://localhost:${port}/graphql`,
    },
    'listening',
  )
  return {
    ...parts,
    port,
    url: `${scheme}://${urlHost(config.host)}:${port}`,
    stop: (reason) => shutdown.run(reason),
  }
}

/** The configured database, or the embedded one started now when none is configured. */
async function connectionSettings(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
): Promise<ConnectionSettings> {
  if (config.database.kind === 'external') return config.database
  // First: where they are missing (the image), that one line is all there is to say.
  const binaries = await installedBinaries()
  logger.info(
    { dataDir: config.database.dataDir },
    'no database configured: starting the embedded PostgreSQL',
  )
  const embedded = await startEmbeddedPostgres({ dataDir: config.database.dataDir, logger, binaries })
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

/** Where a client on this machine reaches a server bound to `host`. */
function urlHost(host: string): string {
  const reachable = reachableHost(host)
  return reachable.includes(':') ? `[${reachable}]` : reachable
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
