import type pg from 'pg'
import type { ConnectionShare } from './connection-share.js'
import type { DatabaseOverview, TableKind, TablePage, TablePageRequest } from './database.js'
import { queryRows } from './query.js'

// Connections by state are visible for every session only with pg_read_all_stats (pg_monitor);
// otherwise PostgreSQL hides other users' state and they count as neither active nor idle.
const OVERVIEW = `
  SELECT current_database() AS name,
         current_setting('server_version') AS server_version,
         pg_database_size(current_database())::float8 AS size_bytes,
         extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_seconds,
         pg_is_in_recovery() AS in_recovery,
         (SELECT count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity WHERE datname = current_database())::int AS active,
         (SELECT count(*) FILTER (WHERE state = 'idle') FROM pg_stat_activity WHERE datname = current_database())::int AS idle,
         current_setting('max_connections')::int AS max_connections`

// The same tables information_schema.tables shows this role (so the count matches numberOfTables),
// read from pg_class to get kinds, estimates and sizes. Keyset pagination on (schema, name).
const TABLES = `
  WITH visible AS (
    SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, c.relkind, c.reltuples
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'f')
      AND NOT pg_is_other_temp_schema(n.oid)
      AND (pg_has_role(c.relowner, 'USAGE')
           OR has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
           OR has_any_column_privilege(c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))
      AND ($1::text IS NULL OR n.nspname = $1)
      AND ($2::boolean OR n.nspname NOT IN ('pg_catalog', 'information_schema'))
      AND ($3::text IS NULL
           OR (n.nspname::text COLLATE "C", c.relname::text COLLATE "C") > ($3::text COLLATE "C", $4::text COLLATE "C"))
    ORDER BY n.nspname::text COLLATE "C", c.relname::text COLLATE "C"
    LIMIT $5
  )
  SELECT schema, name, relkind AS kind,
         CASE WHEN reltuples < 0 THEN NULL ELSE reltuples::float8 END AS row_estimate,
         pg_total_relation_size(oid)::float8 AS size_bytes
  FROM visible
  ORDER BY schema COLLATE "C", name COLLATE "C"`

const KINDS: Record<string, TableKind> = { r: 'TABLE', p: 'PARTITIONED_TABLE', v: 'VIEW', f: 'FOREIGN_TABLE' }

/** Overview and table pages, from read-only catalog queries, within GraphQL's share of the pool. */
export function createCatalogQueries(pool: pg.Pool, share: ConnectionShare) {
  return {
    async overview(): Promise<DatabaseOverview> {
      const [row] = await share.run(() => queryRows(pool, OVERVIEW))
      if (!row) throw new Error('the overview query returned no row')
      return {
        name: row.name,
        serverVersion: row.server_version,
        sizeBytes: row.size_bytes,
        uptimeSeconds: row.uptime_seconds,
        inRecovery: row.in_recovery,
        connections: { active: row.active, idle: row.idle, max: row.max_connections },
      }
    },

    async tables(request: TablePageRequest): Promise<TablePage> {
      // One row more than asked tells whether there is a next page.
      const rows = await share.run(() =>
        queryRows(pool, TABLES, [
          request.schema ?? null,
          request.includeSystem,
          request.after?.schema ?? null,
          request.after?.name ?? null,
          request.first + 1,
        ]),
      )
      return {
        tables: rows.slice(0, request.first).map((row) => ({
          schema: row.schema,
          name: row.name,
          kind: KINDS[row.kind] ?? 'TABLE',
          rowEstimate: row.row_estimate,
          sizeBytes: row.size_bytes,
        })),
        hasNextPage: rows.length > request.first,
      }
    },
  }
}
