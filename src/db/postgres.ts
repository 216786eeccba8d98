import pg from 'pg'
import type { ConnectionSettings, DatabaseTls } from '../config/database-target.js'
import type { Logger } from '../logger.js'
import { createCatalogQueries } from './catalog.js'
import { createHealthCheck } from './connection-probe.js'
import { createConnectionShare } from './connection-share.js'
import type { Database, HealthCheck, PoolStats } from './database.js'
import { classifyFailure, DatabaseBusyError, DatabaseUnavailableError } from './failure-reasons.js'
import { passwordFromFile } from './password-file.js'
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

const QUERY_TIMEOUT_GRACE_MS = 1000
const SEED_RESERVED_CONNECTIONS = 1
/** Insight queries waiting for the share; more are refused at once (DATABASE_BUSY, queue full). */
const INSIGHT_MAX_WAITING = 256

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
          password:
            settings.passwordFile && settings.password
              ? passwordFromFile(settings.passwordFile, settings.password, logger)
              : settings.password,
        }),
    ssl: sslOptions(settings.tls),
    // pg's default of 0 waits forever for a connection: a black-holed server would hang every request.
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.queryTimeoutMs,
    // The server's cancellation (57014, "busy") must arrive before the client gives up on its own, which
    // means the server did not answer at all ("timeout", unavailable).
    query_timeout: options.queryTimeoutMs + QUERY_TIMEOUT_GRACE_MS,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'ctera-app',
  }
  const pool = new pg.Pool({ ...common, max: options.poolMax })
  // GraphQL's insight queries get all of the pool but one connection, which stays for the seed's count:
  // a single query at a time (single-flight), so one is enough. See docs/operations.md#a-busy-database.
  let lastHealth: HealthCheck | undefined
  const insight = createConnectionShare({
    max: Math.max(1, options.poolMax - SEED_RESERVED_CONNECTIONS),
    maxWaiting: INSIGHT_MAX_WAITING,
    // Waiting longer than a query may run serves no one; by default the connect timeout is the shorter.
    waitMs: Math.min(options.connectTimeoutMs, options.queryTimeoutMs),
    // Busy only while the server answers: behind queries stuck connecting to a dead one, say why it is dead.
    waitedInVain: () =>
      lastHealth?.reason
        ? new DatabaseUnavailableError(lastHealth.reason)
        : new DatabaseBusyError('connection wait timeout'),
  })
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
    // The health check's budget is HEALTH_TIMEOUT_MS, not the one of the queries it stands beside.
    statement_timeout: options.healthTimeoutMs,
    query_timeout: options.healthTimeoutMs + QUERY_TIMEOUT_GRACE_MS,
  })
  const checkHealth = createHealthCheck(healthPool, {
    timeoutMs: options.healthTimeoutMs,
    cacheMs: options.healthCacheMs,
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
    checkHealth: async () => {
      lastHealth = await checkHealth()
      return lastHealth
    },
    countTables: createTableCounter(pool, insight),
    ...createCatalogQueries(pool, insight),
    poolStats: () => {
      const queries = statsOf(pool)
      return {
        queries: { ...queries, waiting: queries.waiting + insight.waiting },
        health: statsOf(healthPool),
      }
    },
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
 * the host name. As in libpq, require with a root certificate checks the CA as verify-ca does. Without TLS,
 * `false` rather than nothing: node-postgres would otherwise look at PGSSLMODE.
 */
function sslOptions(tls: DatabaseTls | undefined): pg.PoolConfig['ssl'] {
  if (!tls) return false
  const clientCertificate = tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}
  const verifyCa = { ca: tls.ca, rejectUnauthorized: true, checkServerIdentity: () => undefined }
  switch (tls.mode) {
    case 'require':
      return { ...(tls.ca ? verifyCa : { rejectUnauthorized: false }), ...clientCertificate }
    case 'verify-ca':
      return { ...verifyCa, ...clientCertificate }
    case 'verify-full':
      // Without a CA of ours (DB_SSLROOTCERT=system), Node's own list of trusted CAs.
      return { ca: tls.ca, rejectUnauthorized: true, ...clientCertificate }
  }
}
