import type { DatabaseOverview, TableInfo, TablePage, TablePageRequest } from './catalog.js'
import type { HealthCheck } from './health-probe.js'
import type { TableFilter } from './table-count.js'

export type { DatabaseOverview, HealthCheck, TableFilter, TableInfo, TablePage, TablePageRequest }

export interface PoolStats {
  total: number
  idle: number
  waiting: number
  max: number
}

/**
 * Everything the rest of the service may ask of its database: the one seam between the service and
 * PostgreSQL. Resolvers reach it as `ctx.db`; src/db/postgres.ts implements it, and the fast tests use
 * an in-memory implementation (test/support/memory-database.ts) that the contract suite
 * (test/contract/database.contract.ts) holds to the same behaviour as PostgreSQL.
 */
export interface Database {
  checkHealth(): Promise<HealthCheck>
  countTables(filter: TableFilter): Promise<number>
  overview(): Promise<DatabaseOverview>
  tables(request: TablePageRequest): Promise<TablePage>
  /** Connections of the query pool, and of the health probe's own one-connection pool. */
  poolStats(): { queries: PoolStats; health: PoolStats }
  /** Ends every connection; safe to call twice. */
  close(): Promise<void>
  /** `postgresql://user@host:port/database`, for logs: no password, whatever the settings held. */
  readonly description: string
}
