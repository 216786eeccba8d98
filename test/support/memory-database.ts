import type {
  Database,
  DatabaseOverview,
  HealthCheck,
  TableFilter,
  TableInfo,
  TablePage,
  TablePageRequest,
} from '../../src/db/database.js'
import { DatabaseUnavailableError, type FailureReason } from '../../src/db/failure-reasons.js'

const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema'])

export interface MemoryDatabase extends Database {
  /** Adds tables (kept in the order PostgreSQL's "C" collation gives them). */
  addTables(...tables: Array<Partial<TableInfo> & Pick<TableInfo, 'schema' | 'name'>>): void
  /** From now on every call fails as PostgreSQL's would with this reason; undefined = reachable again. */
  setUnreachable(reason: FailureReason | undefined): void
  /** From now on every query (not the health check) throws this: an unexpected failure, not an outage. */
  setBroken(error: Error | undefined): void
  /** Calls made to checkHealth so far. */
  readonly healthChecks: number
}

/**
 * The Database interface in memory, for the fast tests: the same answers as PostgreSQL for the same
 * catalogue, as test/contract/database.contract.ts proves against both. A few system tables and views
 * stand in for pg_catalog and information_schema. Lives with the tests: the service never needs it.
 */
export function createMemoryDatabase(
  options: { unreachable?: FailureReason; description?: string } = {},
): MemoryDatabase {
  const startedAt = Date.now()
  let tables: TableInfo[] = []
  let unreachable = options.unreachable
  let broken: Error | undefined
  let healthChecks = 0

  const available = () => {
    if (unreachable) throw new DatabaseUnavailableError(unreachable)
    if (broken) throw broken
  }
  const visible = (filter: TableFilter) =>
    tables.filter(
      (table) =>
        (filter.schema === undefined || table.schema === filter.schema) &&
        (filter.includeSystem || !SYSTEM_SCHEMAS.has(table.schema)),
    )

  const db: MemoryDatabase = {
    get healthChecks() {
      return healthChecks
    },
    addTables(...added) {
      tables = [
        ...tables,
        ...added.map((table) => ({ kind: 'TABLE' as const, rowEstimate: null, sizeBytes: 0, ...table })),
      ].sort(byKey)
    },
    setUnreachable(reason) {
      unreachable = reason
    },
    setBroken(error) {
      broken = error
    },

    async checkHealth(): Promise<HealthCheck> {
      healthChecks++
      const checkedAt = new Date()
      const started = performance.now()
      await Promise.resolve()
      const latencyMs = Math.round((performance.now() - started) * 100) / 100
      return unreachable
        ? { healthy: false, latencyMs, checkedAt, reason: unreachable, role: null, replayLagSeconds: null }
        : { healthy: true, latencyMs, checkedAt, reason: null, role: 'primary', replayLagSeconds: null }
    },

    async countTables(filter) {
      available()
      return visible(filter).length
    },

    async overview(): Promise<DatabaseOverview> {
      available()
      return {
        name: 'memory',
        serverVersion: '18.0 (in memory)',
        sizeBytes: 8_000_000 + tables.reduce((sum, table) => sum + table.sizeBytes, 0),
        uptimeSeconds: (Date.now() - startedAt) / 1000,
        inRecovery: false,
        connections: { active: 1, idle: 0, max: 100 },
      }
    },

    async tables(request: TablePageRequest): Promise<TablePage> {
      available()
      const after = request.after
      const matching = visible(request).filter((table) => !after || byKey(table, after) > 0)
      return { tables: matching.slice(0, request.first), hasNextPage: matching.length > request.first }
    },

    poolStats: () => ({
      queries: { total: 0, idle: 0, waiting: 0, max: 10 },
      health: { total: 0, idle: 0, waiting: 0, max: 1 },
    }),
    close: async () => {},
    description: options.description ?? 'memory://ctera@localhost/memory',
  }
  db.addTables(
    { schema: 'pg_catalog', name: 'pg_class' },
    { schema: 'pg_catalog', name: 'pg_namespace' },
    { schema: 'information_schema', name: 'tables', kind: 'VIEW', sizeBytes: 0 },
  )
  return db
}

/** PostgreSQL's ORDER BY schema COLLATE "C", name COLLATE "C": byte order of the UTF-8 text. */
function byKey(a: { schema: string; name: string }, b: { schema: string; name: string }): number {
  return (
    Buffer.compare(Buffer.from(a.schema), Buffer.from(b.schema)) ||
    Buffer.compare(Buffer.from(a.name), Buffer.from(b.name))
  )
}
