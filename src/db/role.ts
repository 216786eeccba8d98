import type pg from 'pg'
import { inDatabaseSpan } from '../telemetry/spans.js'
import { databaseOf } from './query.js'

/** What the server is in a replication set: pg_is_in_recovery() is true on a standby (hot standby or not). */
export type DatabaseRole = 'primary' | 'standby'

export interface RoleReport {
  role: DatabaseRole
  /**
   * On a standby, how far replay is behind, in seconds: 0 when everything received has been replayed,
   * else the age of the last replayed transaction (as postgres_exporter's pg_replication_lag_seconds).
   * null on a primary, or on a standby that has not replayed a transaction since it started.
   */
  replayLagSeconds: number | null
}

/**
 * The health check's query: it proves the server answers, and says its role on the way, in one round
 * trip. Every function here is executable by any role (PUBLIC) from PostgreSQL 10 on.
 * "All received WAL replayed" counts as no lag: an idle primary sends no transactions, and the age of the
 * last one would grow forever. GREATEST(0, ...) absorbs a standby clock slightly ahead of the primary's.
 */
export const ROLE_QUERY = `SELECT pg_is_in_recovery() AS standby,
  CASE
    WHEN NOT pg_is_in_recovery() THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()))::float8
  END AS replay_lag_seconds`

/** A pool or one of its clients: the health check runs on either. */
type Queryable = Pick<pg.ClientBase, 'query'>

/**
 * The health check's query as a function: the server's role, or null when it answered SELECT 1 but
 * cannot say (see isRoleQueryUnsupported; such a server is asked only SELECT 1 from then on). It throws
 * what the query throws otherwise, for the health check to classify.
 */
export function createRoleQuery(timeoutMs: number): (on: Queryable) => Promise<RoleReport | null> {
  // pg honours a per-query query_timeout; its type definitions do not list it.
  const roleQuery = { text: ROLE_QUERY, query_timeout: timeoutMs } as pg.QueryConfig
  const ping = { text: 'SELECT 1', query_timeout: timeoutMs } as pg.QueryConfig
  let supported = true
  return async (on) => {
    if (supported) {
      try {
        return readRole((await inDatabaseSpan(ROLE_QUERY, databaseOf(on), () => on.query(roleQuery))).rows[0])
      } catch (error) {
        if (!isRoleQueryUnsupported(error)) throw error
        supported = false
      }
    }
    await inDatabaseSpan('SELECT 1', databaseOf(on), () => on.query(ping))
    return null
  }
}

export function readRole(row: { standby?: unknown; replay_lag_seconds?: unknown } | undefined): RoleReport {
  const lag = row?.replay_lag_seconds
  return {
    role: row?.standby === true ? 'standby' : 'primary',
    replayLagSeconds: typeof lag === 'number' && Number.isFinite(lag) ? Math.round(lag * 1000) / 1000 : null,
  }
}

/**
 * True when the server answered but cannot run ROLE_QUERY: a server that speaks PostgreSQL's protocol
 * without its functions (undefined_function), or one where EXECUTE was revoked (insufficient_privilege).
 * The health check then falls back to SELECT 1 and reports no role.
 */
export function isRoleQueryUnsupported(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === '42883' || code === '42501' || code === '0A000'
}
