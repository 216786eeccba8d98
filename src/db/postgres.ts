import pg from 'pg'
import type { ConnectionSettings, DatabaseTls } from '../config/database-target.js'
import type { Logger } from '../logger.js'
import { createCatalogQueries } from './catalog.js'
import type { Database, PoolStats } from './database.js'
import { classifyFailure } from './errors.js'
import { createHealthCheck } from './health-probe.js'
import { createTableCounter } from './table-count.js'

export interface DatabaseOptions {
  connectTimeoutMs: number
  queryTimeoutMs: number
  healthTimeoutMs: number
  healthCacheMs: number
  /** The health connection is replaced this often, so that health also means "a new connection works". */
  healthIntervalMs: number
  poolMax: number
}

/** The Database backed by PostgreSQL: a query pool and the health probe's own one-connection pool. */
export function createPostgresDatabase(
  settings: ConnectionSettings,
  options: DatabaseOptions,
  logger: Logger,
): Database {
  const common: pg.PoolConfig = {
    ...(settings.connectionString
      ? { connectionString: settings.connectionString }
      : {
          host: settings.host,
          port: settings.port,
          user: settings.user,
          database: settings.database,
          password: settings.password,
        }),
    ssl: sslOptions(settings.tls),
    // pg's default of 0 waits forever for a connection: a black-holed server would hang every request.
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.queryTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'ctera-app',
  }
  const pool = new pg.Pool({ ...common, max: options.poolMax })
  // Health probes get a connection of their own, so slow queries filling the pool cannot starve them.
  // It is replaced every health interval: an old connection can keep answering while the server accepts
  // no new ones (postmaster hung, every slot taken), and the check must see that within an interval.
  // The background monitor checks once per interval, so each of its checks opens a new connection;
  // checks in between (probe storms) reuse it.
  const healthPool = new pg.Pool({
    ...common,
    max: 1,
    maxLifetimeSeconds: options.healthIntervalMs / 1000,
    connectionTimeoutMillis: Math.min(options.connectTimeoutMs, options.healthTimeoutMs),
  })
  let closing: Promise<void> | undefined
  for (const each of [pool, healthPool]) {
    // An idle client whose server goes away emits 'error' on its pool; unhandled, that kills the process.
    // Once we close the pools ourselves, a connection ending is expected, not news.
    each.on('error', (error) => {
      if (!closing) logger.warn({ reason: classifyFailure(error) }, 'idle database connection lost')
    })
  }

  return {
    checkHealth: createHealthCheck(healthPool, {
      timeoutMs: options.healthTimeoutMs,
      cacheMs: options.healthCacheMs,
    }),
    countTables: createTableCounter(pool),
    ...createCatalogQueries(pool),
    poolStats: () => ({ queries: statsOf(pool), health: statsOf(healthPool) }),
    close: () => {
      closing ??= Promise.all([pool.end(), healthPool.end()]).then(() => undefined)
      return closing
    },
    description: `postgresql://${settings.user}@${settings.host}:${settings.port}/${settings.database}`,
  }
}

function statsOf(pool: pg.Pool): PoolStats {
  return {
    total: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
    max: pool.options.max ?? 0,
  }
}

/**
 * libpq's sslmode in node-postgres terms: require encrypts; verify-ca also checks the CA; verify-full also
 * the host name. As in libpq, require with a root certificate (DB_SSLROOTCERT) checks the CA as verify-ca does.
 */
function sslOptions(tls: DatabaseTls | undefined): pg.PoolConfig['ssl'] {
  const verifyCa = { ca: tls?.ca, rejectUnauthorized: true, checkServerIdentity: () => undefined }
  switch (tls?.mode) {
    case undefined:
      return undefined
    case 'require':
      return tls.ca ? verifyCa : { rejectUnauthorized: false }
    case 'verify-ca':
      return verifyCa
    case 'verify-full':
      return { ca: tls.ca, rejectUnauthorized: true }
  }
}
