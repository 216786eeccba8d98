import pg from 'pg'
import type { ConnectionSettings } from '../config.js'
import type { Logger } from '../logger.js'
import { classifyFailure } from './errors.js'
import { createHealthCheck, type HealthCheck } from './health.js'
import { createTableCounter, type TableFilter } from './tables.js'

export interface DatabaseOptions {
  connectTimeoutMs: number
  queryTimeoutMs: number
  healthTimeoutMs: number
  healthCacheMs: number
  poolMax: number
}

/** Everything the rest of the service may ask of PostgreSQL. Resolvers reach it as `ctx.db`. */
export interface Database {
  checkHealth(): Promise<HealthCheck>
  countTables(filter: TableFilter): Promise<number>
  /** Ends every connection; safe to call twice. */
  close(): Promise<void>
  /** `postgresql://user@host:port/database`, for logs: no password, whatever the settings held. */
  readonly description: string
}

export function createDatabase(
  settings: ConnectionSettings,
  options: DatabaseOptions,
  logger: Logger,
): Database {
  const pool = new pg.Pool({
    ...(settings.connectionString
      ? { connectionString: settings.connectionString }
      : {
          host: settings.host,
          port: settings.port,
          user: settings.user,
          database: settings.database,
          password: settings.password,
        }),
    max: options.poolMax,
    // pg's default of 0 waits forever for a connection: a black-holed server would hang every request.
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.queryTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'ctera-app',
  })
  // An idle client whose server goes away emits 'error' on the pool; unhandled, that kills the process.
  pool.on('error', (error) =>
    logger.warn({ reason: classifyFailure(error) }, 'idle database connection lost'),
  )

  let closing: Promise<void> | undefined
  return {
    checkHealth: createHealthCheck(
      pool,
      { timeoutMs: options.healthTimeoutMs, cacheMs: options.healthCacheMs },
      logger,
    ),
    countTables: createTableCounter(pool),
    close: () => {
      closing ??= pool.end()
      return closing
    },
    description: `postgresql://${settings.user}@${settings.host}:${settings.port}/${settings.database}`,
  }
}
