import type pg from 'pg'
import { inDatabaseSpan } from '../telemetry/spans.js'
import {
  busyReason,
  classifyConnectFailure,
  classifyFailure,
  DatabaseBusyError,
  DatabaseUnavailableError,
  isUnavailable,
} from './failure-reasons.js'

/**
 * A connection from the pool for `work`, released afterwards (and discarded if the work failed). A
 * connection that cannot be had is a DatabaseUnavailableError whatever the server said, with a fixed
 * reason: a revoked CONNECT privilege is as much an outage to us as a refused socket. Waiting in vain for
 * one of the pool's own connections (all in use) is a DatabaseBusyError instead: nothing was tried.
 */
export async function withConnection<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (error) {
    const busy = busyReason(error)
    throw busy ? new DatabaseBusyError(busy) : new DatabaseUnavailableError(classifyConnectFailure(error))
  }
  // As pool.query() does, listen for the connection's 'error' while the client is out of the pool: a server
  // that ends the session between two queries (57P01 when it shuts down) emits it with no query to fail,
  // and an 'error' event nobody listens to kills the process.
  let lost: Error | undefined
  const onError = (error: Error) => {
    lost = error
  }
  client.on('error', onError)
  try {
    const result = await work(client)
    client.off('error', onError)
    client.release(lost)
    return result
  } catch (error) {
    client.off('error', onError)
    // As pool.query() does: a connection that failed a query is not trusted with the next one.
    client.release(error instanceof Error ? error : true)
    throw error
  }
}

/**
 * The rows of one query. "Cannot reach or use the server" becomes a DatabaseUnavailableError with a
 * fixed reason, "the server cancelled it at statement_timeout" a DatabaseBusyError; any other failure is
 * unexpected and rethrown as is.
 */
export async function queryRows<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  try {
    return (
      await withConnection(pool, (client) =>
        inDatabaseSpan(text, databaseOf(client), () => client.query<R>(text, values)),
      )
    ).rows
  } catch (error) {
    const busy = busyReason(error)
    if (busy) throw new DatabaseBusyError(busy)
    if (isUnavailable(error)) throw new DatabaseUnavailableError(classifyFailure(error))
    throw error
  }
}

/** The database a connection is to (pg's clients hold it; its type definitions list it on Client only). */
export function databaseOf(client: object): string | undefined {
  const { database } = client as { database?: unknown }
  return typeof database === 'string' ? database : undefined
}
