import type pg from 'pg'
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
 * Counts tables; identical concurrent counts share one query. Throws DatabaseUnavailableError when
 * the database cannot be reached; any other failure is unexpected and rethrown as is.
 */
export function createTableCounter(pool: pg.Pool): (filter: TableFilter) => Promise<number> {
  return singleFlight(
    async (filter: TableFilter) => {
      const [row] = await queryRows<{ count: number }>(pool, COUNT_TABLES, [
        filter.schema ?? null,
        filter.includeSystem,
      ])
      return row?.count ?? 0
    },
    (filter) => `${filter.includeSystem}:${filter.schema ?? ''}`,
  )
}
