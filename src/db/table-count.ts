import type pg from 'pg'
import type { ConnectionShare } from './connection-share.js'
import type { TableFilter } from './database.js'
import { queryRows } from './query.js'
import { singleFlight } from './single-flight.js'

// With no filter this is exactly the seed's `SELECT count(*) FROM information_schema.tables`:
// information_schema shows only what the connected role may see, so the number is "as seen by us".
const COUNT_TABLES = `
  SELECT count(*)::int AS count
  FROM information_schema.tables
  WHERE ($1::text IS NULL OR table_schema = $1)
    AND ($2::boolean OR table_schema NOT IN ('pg_catalog', 'information_schema'))`

/**
 * Counts tables; identical concurrent counts share one query. The seed's count (every schema, system
 * catalogs included: /number_of_tables, and the same numberOfTables in GraphQL) is one query at a time,
 * on the connection the pool keeps for it; filtered counts are insight and wait in `insightShare`.
 * Throws DatabaseUnavailableError when the database cannot be reached, DatabaseBusyError when it is busy;
 * any other failure is unexpected and rethrown as is.
 */
export function createTableCounter(
  pool: pg.Pool,
  insightShare: ConnectionShare,
): (filter: TableFilter) => Promise<number> {
  return singleFlight(
    async (filter: TableFilter) => {
      const count = () =>
        queryRows<{ count: number }>(pool, COUNT_TABLES, [filter.schema ?? null, filter.includeSystem])
      const isSeedCount = filter.schema === undefined && filter.includeSystem
      const [row] = await (isSeedCount ? count() : insightShare.run(count))
      return row?.count ?? 0
    },
    (filter) => `${filter.includeSystem}:${filter.schema ?? ''}`,
  )
}
