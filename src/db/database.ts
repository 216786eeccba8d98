import type { FailureReason } from './failure-reasons.js'
import type { DatabaseRole } from './role.js'

export interface HealthCheck {
  healthy: boolean
  latencyMs: number
  checkedAt: Date
  /** null when healthy; otherwise one of the fixed reasons, never driver text. */
  reason: FailureReason | null
  /** primary or standby (pg_is_in_recovery()); null when the check failed or the server cannot say. */
  role: DatabaseRole | null
  /** On a standby, how far replay is behind, in seconds (see RoleReport); null otherwise. */
  replayLagSeconds: number | null
}

export interface TableFilter {
  /** Count only this schema; undefined = every schema the user can see. */
  schema?: string
  /** false leaves out pg_catalog and information_schema. */
  includeSystem: boolean
}

/** What the database is (read from the catalog in one round trip). */
export interface DatabaseOverview {
  name: string
  serverVersion: string
  sizeBytes: number
  uptimeSeconds: number
  inRecovery: boolean
  connections: { active: number; idle: number; max: number }
}

export type TableKind = 'TABLE' | 'PARTITIONED_TABLE' | 'VIEW' | 'FOREIGN_TABLE'

export interface TableInfo {
  schema: string
  name: string
  kind: TableKind
  /** The planner's estimate (pg_class.reltuples); null before the table was first analyzed. */
  rowEstimate: number | null
  sizeBytes: number
}

export interface TablePageRequest {
  schema?: string
  includeSystem: boolean
  first: number
  /** The (schema, name) of the last table of the previous page. */
  after?: { schema: string; name: string }
}

export interface TablePage {
  tables: TableInfo[]
  hasNextPage: boolean
}

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
